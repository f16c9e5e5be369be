// One request or response header operation of a route, in the order Envoy applies them.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace cmesh::router {

struct HeaderOp {
  enum class Action : unsigned char {
    kRemove,             // every field of that name
    kAppend,             // APPEND_IF_EXISTS_OR_ADD: one more field
    kAddIfAbsent,        // ADD_IF_ABSENT
    kOverwrite,          // OVERWRITE_IF_EXISTS_OR_ADD: replaces every field of that name
    kOverwriteIfExists,  // OVERWRITE_IF_EXISTS
  };
  Action action = Action::kAppend;
  std::string name;   // lower case
  std::string value;  // literal; empty for kRemove
};

struct OwnedHeader {
  std::string name;
  std::string value;
};

// Applies `ops` in order to `headers` (names compare case-insensitively). The forwarder may use
// its own header container; this is the reference semantics.
void ApplyHeaderOps(std::span<const HeaderOp> ops, std::vector<OwnedHeader>& headers);

}  // namespace cmesh::router
