#include "cmesh/webhook/json_patch.h"

namespace cmesh::webhook {
namespace {

// The value at an unescaped "/a/b" path of `base`, or null when a segment is missing. The paths
// the injector asks about have no escaped segments.
const nlohmann::json* Find(const nlohmann::json& base, const std::string& path) {
  const nlohmann::json* node = &base;
  std::size_t start = 1;
  while (start <= path.size() && !path.empty()) {
    const std::size_t end = path.find('/', start);
    const std::string key = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return node;
}

}  // namespace

std::string EscapePointerSegment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

void PatchBuilder::AppendToArray(const nlohmann::json& base, const std::string& path, const nlohmann::json& items) {
  if (items.empty()) return;
  const nlohmann::json* existing = Find(base, path);
  if (existing == nullptr || !existing->is_array()) {
    // A null (or absent) field: "add" creates it, and also replaces a JSON null.
    ops_.push_back({{"op", "add"}, {"path", path}, {"value", items}});
    return;
  }
  for (const auto& item : items) ops_.push_back({{"op", "add"}, {"path", path + "/-"}, {"value", item}});
}

void PatchBuilder::PrependToArray(const nlohmann::json& base, const std::string& path, const nlohmann::json& items) {
  if (items.empty()) return;
  const nlohmann::json* existing = Find(base, path);
  if (existing == nullptr || !existing->is_array() || existing->empty()) {
    AppendToArray(base, path, items);
    return;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    ops_.push_back({{"op", "add"}, {"path", path + "/" + std::to_string(i)}, {"value", items[i]}});
  }
}

void PatchBuilder::SetMember(const nlohmann::json& base, const std::string& path, const std::string& key,
                             const nlohmann::json& value) {
  const nlohmann::json* existing = Find(base, path);
  if (existing != nullptr && existing->is_object()) {
    ops_.push_back({{"op", "add"}, {"path", path + "/" + EscapePointerSegment(key)}, {"value", value}});
    return;
  }
  // The object is missing: one "add" creates it; later members join that same operation.
  for (auto& op : ops_) {
    if (op["path"] == path && op["value"].is_object()) {
      op["value"][key] = value;
      return;
    }
  }
  ops_.push_back({{"op", "add"}, {"path", path}, {"value", {{key, value}}}});
}

nlohmann::json PatchBuilder::Build() const { return ops_; }

}  // namespace cmesh::webhook
