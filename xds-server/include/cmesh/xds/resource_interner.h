// Serialise each resource once per version across every snapshot and group. The compiler knows
// a resource's version (a content hash) before anything is serialised; the interner hands back
// the existing ResourcePtr for a (type, name, version) still alive anywhere, and serialises only
// what is new. Identical assignments in a hundred groups are then one set of bytes.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "cmesh/xds/resource.h"

namespace cmesh::xds {

class ResourceInterner {
 public:
  // `version` must be non-empty and must change whenever the content does (the caller's
  // content hash); otherwise a stale serialisation would be reused.
  ResourcePtr Get(const envoy::config::listener::v3::Listener& listener, const std::string& version);
  ResourcePtr Get(const envoy::config::route::v3::RouteConfiguration& route, const std::string& version);
  ResourcePtr Get(const envoy::config::cluster::v3::Cluster& cluster, const std::string& version);
  ResourcePtr Get(const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment,
                  const std::string& version);

  // Entries still alive (held by some snapshot or stream).
  std::size_t live() const;
  // Entries tracked, expired ones included until the next sweep.
  std::size_t tracked() const;
  // How many Get calls had to serialise.
  std::size_t serialisations() const;

 private:
  using Key = std::tuple<ResourceType, std::string, std::string>;
  template <typename Message>
  ResourcePtr Intern(ResourceType type, const std::string& name, const Message& message, const std::string& version);

  mutable std::mutex mutex_;
  std::map<Key, std::weak_ptr<const Resource>> entries_;
  std::size_t sweep_at_ = 64;  // next size at which expired entries are swept
  std::size_t serialisations_ = 0;
};

}  // namespace cmesh::xds
