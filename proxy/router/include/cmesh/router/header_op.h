// One request or response header operation of a route, in the order Envoy applies them.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "cmesh/http1/encoder.h"

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

// The codec's owned header field, so a forwarder applies operations to its own list.
using OwnedHeader = http1::OwnedHeader;

// Applies `ops` in order to `headers` (names compare case-insensitively): the forwarder's own
// list of owned header fields.
void ApplyHeaderOps(std::span<const HeaderOp> ops, std::vector<OwnedHeader>& headers);

}  // namespace cmesh::router
