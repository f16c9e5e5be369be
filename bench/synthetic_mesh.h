// A synthetic mesh for benchmarks: services spread over namespaces, each with versioned pods, a
// DestinationRule with one subset per version and a VirtualService that uses them.
#pragma once

#include <cstddef>
#include <string>

#include "cmesh/model/config_set.h"

namespace cmesh::bench {

struct MeshShape {
  size_t services = 1000;
  size_t namespaces = 10;
  size_t subsets = 3;        // versions v1..vN, one DR subset each
  size_t pods_per_service = 10;
};

model::ConfigSet MakeSyntheticMesh(const MeshShape& shape);

// The node id of a proxy that runs the first service of namespace `ns_index`.
std::string SyntheticProxyId(size_t ns_index);

}  // namespace cmesh::bench
