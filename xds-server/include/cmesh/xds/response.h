// Responses as the stream state machines produce them: transport-independent, holding shared
// pointers to the already-serialised resources rather than protobuf copies.
#pragma once

#include <string>
#include <vector>

#include "cmesh/xds/resource.h"

namespace cmesh::xds {

struct SotwResponse {
  ResourceType type;
  std::string version_info;
  std::string nonce;
  std::vector<ResourcePtr> resources;
};

struct DeltaResponse {
  ResourceType type;
  std::string system_version_info;
  std::string nonce;
  std::vector<ResourcePtr> resources;  // each sent with its own version
  std::vector<std::string> removed;
};

}  // namespace cmesh::xds
