// Type-level versions: a digest over every resource's name and version, in output order (which is
// sorted by name), so a type's version changes exactly when one of its resources does.
#include "cmesh/compiler/xds_resources.h"
#include "hash.h"

namespace cmesh::compiler {
namespace {

template <typename T>
std::string TypeVersion(const std::vector<Versioned<T>>& items) {
  Hasher hasher;
  hasher.Add(static_cast<uint64_t>(items.size()));
  for (const auto& item : items) {
    hasher.Add(item.resource.name());
    hasher.Add(item.version);
  }
  return HexDigest(hasher.Digest());
}

template <>
std::string TypeVersion(
    const std::vector<Versioned<envoy::config::endpoint::v3::ClusterLoadAssignment>>& items) {
  Hasher hasher;
  hasher.Add(static_cast<uint64_t>(items.size()));
  for (const auto& item : items) {
    hasher.Add(item.resource.cluster_name());
    hasher.Add(item.version);
  }
  return HexDigest(hasher.Digest());
}

}  // namespace

std::string XdsResources::ListenersVersion() const { return TypeVersion(listeners); }
std::string XdsResources::RoutesVersion() const { return TypeVersion(routes); }
std::string XdsResources::ClustersVersion() const { return TypeVersion(clusters); }
std::string XdsResources::EndpointsVersion() const { return TypeVersion(endpoints); }

}  // namespace cmesh::compiler
