#include "cmesh/xds/resource_interner.h"

#include <algorithm>

namespace cmesh::xds {

template <typename Message>
ResourcePtr ResourceInterner::Intern(ResourceType type, const std::string& name, const Message& message,
                                     const std::string& version) {
  if (version.empty()) return MakeResource(message);  // nothing to key on: serialise, don't share
  Key key{type, name, version};
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      if (ResourcePtr existing = it->second.lock()) return existing;
    }
  }
  // Serialised outside the lock; two threads racing on the same key both serialise, and the
  // first to publish wins so later callers share one object.
  ResourcePtr made = MakeResource(message, version);
  std::lock_guard lock(mutex_);
  ++serialisations_;
  auto [it, inserted] = entries_.try_emplace(std::move(key), made);
  if (!inserted) {
    if (ResourcePtr existing = it->second.lock()) return existing;
    it->second = made;
  }
  // Amortised cleanup: sweep when the map has doubled since the last sweep.
  if (entries_.size() >= sweep_at_) {
    std::erase_if(entries_, [](const auto& entry) { return entry.second.expired(); });
    sweep_at_ = std::max<std::size_t>(64, entries_.size() * 2);
  }
  return made;
}

ResourcePtr ResourceInterner::Get(const envoy::config::listener::v3::Listener& listener, const std::string& version) {
  return Intern(ResourceType::kListener, listener.name(), listener, version);
}

ResourcePtr ResourceInterner::Get(const envoy::config::route::v3::RouteConfiguration& route,
                                  const std::string& version) {
  return Intern(ResourceType::kRoute, route.name(), route, version);
}

ResourcePtr ResourceInterner::Get(const envoy::config::cluster::v3::Cluster& cluster, const std::string& version) {
  return Intern(ResourceType::kCluster, cluster.name(), cluster, version);
}

ResourcePtr ResourceInterner::Get(const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment,
                                  const std::string& version) {
  return Intern(ResourceType::kEndpoint, assignment.cluster_name(), assignment, version);
}

std::size_t ResourceInterner::live() const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [key, weak] : entries_) count += weak.expired() ? 0 : 1;
  return count;
}

std::size_t ResourceInterner::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t ResourceInterner::serialisations() const {
  std::lock_guard lock(mutex_);
  return serialisations_;
}

}  // namespace cmesh::xds
