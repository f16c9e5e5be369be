#include "cmesh/pipeline/config_directory.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace cmesh::pipeline {

namespace fs = std::filesystem;

ConfigDirectory::ConfigDirectory(std::string root)
    : root_(std::move(root)), config_(std::make_shared<const model::ConfigSet>()) {}

ObjectKeySet ConfigDirectory::LoadAll() {
  files_.clear();
  std::error_code ec;
  fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    model::ParseResult failed;
    model::Diagnostic d;
    d.object.file = root_;
    d.message = "cannot read: " + ec.message();
    failed.diagnostics.push_back(std::move(d));
    files_.emplace(root_, std::move(failed));
    return Rebuild();
  }
  for (fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && IsConfigFileName(it->path().string())) ParseFile(it->path().string());
  }
  return Rebuild();
}

ObjectKeySet ConfigDirectory::Apply(const FileEvent& event) { return Apply(std::vector<FileEvent>{event}); }

ObjectKeySet ConfigDirectory::Apply(const std::vector<FileEvent>& events) {
  for (const FileEvent& event : events) {
    switch (event.kind) {
      case FileEvent::Kind::kCreated:
      case FileEvent::Kind::kModified:
      case FileEvent::Kind::kMovedTo:
        ParseFile(event.path);
        break;
      case FileEvent::Kind::kDeleted:
      case FileEvent::Kind::kMovedFrom:
      case FileEvent::Kind::kDirGone:
        DropPath(event.path);
        break;
    }
  }
  return Rebuild();
}

ObjectKeySet ConfigDirectory::ReloadFile(const std::string& path) {
  ParseFile(path);
  return Rebuild();
}

ObjectKeySet ConfigDirectory::Remove(const std::string& path) {
  DropPath(path);
  return Rebuild();
}

std::vector<std::string> ConfigDirectory::files() const {
  std::vector<std::string> out;
  for (const auto& [path, result] : files_) out.push_back(path);
  return out;
}

void ConfigDirectory::ParseFile(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    // Gone again before we got to it (events are handled late): the later delete event agrees.
    files_.erase(path);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    // Keep the last good parse: a transient read failure must not withdraw served config.
    model::Diagnostic d;
    d.object.file = path;
    d.message = "cannot read; keeping its previous content";
    files_[path].diagnostics.push_back(std::move(d));
    return;
  }
  files_[path] = model::ParseDocuments(text.str(), path, {.cross_object_checks = false});
}

void ConfigDirectory::DropPath(const std::string& path) {
  const std::string prefix = path + "/";
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first == path || it->first.rfind(prefix, 0) == 0) {
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
}

ObjectKeySet ConfigDirectory::Rebuild() {
  model::ParseResult merged;
  for (const auto& [path, result] : files_) {
    merged.config.Merge(result.config);
    merged.diagnostics.insert(merged.diagnostics.end(), result.diagnostics.begin(), result.diagnostics.end());
  }
  model::CheckCrossObjectRules(&merged);
  auto config = std::make_shared<const model::ConfigSet>(std::move(merged.config));
  ObjectKeySet changed = DiffObjects(*config_, *config);
  config_ = std::move(config);
  diagnostics_ = std::move(merged.diagnostics);
  return changed;
}

}  // namespace cmesh::pipeline
