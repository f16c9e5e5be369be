#include "cmesh/file_source/file_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <system_error>

namespace cmesh::file_source {
namespace {

namespace fs = std::filesystem;

bool HasConfigExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

model::Diagnostic PathError(const std::string& path, const std::string& reason) {
  model::Diagnostic d;
  d.severity = model::Severity::kError;
  d.object.file = path;
  d.message = "cannot read: " + reason;
  return d;
}

void AddParsed(model::ParseResult& total, model::ParseResult part) {
  total.config.Merge(std::move(part.config));
  total.diagnostics.insert(total.diagnostics.end(),
                           std::make_move_iterator(part.diagnostics.begin()),
                           std::make_move_iterator(part.diagnostics.end()));
}

void LoadFile(const std::string& path, model::ParseResult& total) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    total.diagnostics.push_back(PathError(path, "the file cannot be opened"));
    return;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    total.diagnostics.push_back(PathError(path, "read error"));
    return;
  }
  AddParsed(total, model::ParseDocuments(buf.str(), path, {.cross_object_checks = false}));
}

void LoadDirectory(const std::string& dir, model::ParseResult& total) {
  std::error_code ec;
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    total.diagnostics.push_back(PathError(dir, ec.message()));
    return;
  }
  for (fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      total.diagnostics.push_back(PathError(dir, ec.message()));
      return;
    }
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && HasConfigExtension(it->path())) {
      files.push_back(it->path().string());
    }
  }
  // Sorted by full path so the result never depends on the file system's listing order.
  std::sort(files.begin(), files.end());
  for (const auto& f : files) LoadFile(f, total);
}

}  // namespace

model::ParseResult LoadPaths(const std::vector<std::string>& paths) {
  model::ParseResult total;
  for (const std::string& path : paths) {
    if (path == "-") {
      std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      AddParsed(total, model::ParseDocuments(text, "-", {.cross_object_checks = false}));
      continue;
    }
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      total.diagnostics.push_back(PathError(path, "no such file or directory"));
    } else if (fs::is_directory(status)) {
      LoadDirectory(path, total);
    } else {
      LoadFile(path, total);
    }
  }
  // Delegates and their roots may sit in different files: check once over everything.
  model::CheckCrossObjectRules(&total);
  return total;
}

}  // namespace cmesh::file_source
