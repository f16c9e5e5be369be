// RFC 6902 JSONPatch operations, as the injection webhook returns them, and RFC 6901 pointer
// escaping. Only what the injector emits: "add" operations.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cmesh::webhook {

// One path segment of a JSON pointer: "~" becomes "~0" and "/" becomes "~1" (in that order, so an
// escaped "~1" in a key is not mistaken for a slash). Annotation keys such as
// "sidecar.istio.io/status" need it.
std::string EscapePointerSegment(std::string_view segment);

// Builds the operations for an object (`base`, e.g. the pod): each Add* method looks at what is
// already there, so the path is right whether the array or map exists yet or not.
class PatchBuilder {
 public:
  // Appends `items` to the array at `path` (e.g. "/spec/containers"): one "add .../-" per item
  // when the array exists, else one "add" of the whole array.
  void AppendToArray(const nlohmann::json& base, const std::string& path, const nlohmann::json& items);
  // Inserts `items` at the front of the array at `path`, keeping their order.
  void PrependToArray(const nlohmann::json& base, const std::string& path, const nlohmann::json& items);
  // Sets `key` = `value` in the object at `path` (e.g. "/metadata/annotations"): one "add" of the
  // member (which replaces an existing one, RFC 6902 4.1) when the object exists, else one "add"
  // of a new object. Consecutive calls on a missing object are merged into that one "add".
  void SetMember(const nlohmann::json& base, const std::string& path, const std::string& key,
                 const nlohmann::json& value);

  bool empty() const { return ops_.empty(); }
  // The patch, a JSON array of operations.
  nlohmann::json Build() const;

 private:
  nlohmann::json ops_ = nlohmann::json::array();
};

}  // namespace cmesh::webhook
