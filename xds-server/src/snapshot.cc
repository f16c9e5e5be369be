#include "cmesh/xds/snapshot.h"

namespace cmesh::xds {

ResourcePtr Snapshot::Find(ResourceType type, std::string_view name) const {
  const ResourceMap& map = resources_[Index(type)];
  auto it = map.find(name);
  return it == map.end() ? nullptr : it->second;
}

std::vector<std::string> Snapshot::ComputeConsistencyErrors() const {
  std::vector<std::string> errors;
  auto check = [&](ResourceType from, ResourceType to, const char* what) {
    for (const auto& [name, resource] : Resources(from)) {
      for (const std::string& needed : resource->dependencies) {
        if (!Find(to, needed)) {
          errors.push_back(std::string(ShortName(from)) + " " + name + ": " + what + " " + needed +
                           " is not in the snapshot");
        }
      }
    }
  };
  check(ResourceType::kListener, ResourceType::kRoute, "RouteConfiguration");
  check(ResourceType::kCluster, ResourceType::kEndpoint, "ClusterLoadAssignment");
  return errors;
}

std::shared_ptr<const std::vector<std::string_view>> Snapshot::ChangedSince(
    const std::shared_ptr<const Snapshot>& older, ResourceType type) const {
  ChangeCache& cache = *change_cache_;
  std::lock_guard lock(cache.mutex);
  if (older == nullptr || cache.from.lock() != older) {
    cache.from = older;
    cache.changed = {};
  }
  auto& cached = cache.changed[Index(type)];
  if (cached) return cached;
  auto changed = std::make_shared<std::vector<std::string_view>>();
  const ResourceMap& now = Resources(type);
  // Both maps are in name order: one merge pass.
  if (older == nullptr) {
    for (const auto& [name, resource] : now) changed->push_back(resource->name);
  } else {
    const ResourceMap& before = older->Resources(type);
    auto b = before.begin();
    for (const auto& [name, resource] : now) {
      while (b != before.end() && b->first < name) ++b;
      const bool same = b != before.end() && b->first == name &&
                        (b->second == resource || b->second->version == resource->version);
      if (!same) changed->push_back(resource->name);
    }
  }
  cached = std::move(changed);
  return cached;
}

bool SnapshotBuilder::Add(ResourcePtr resource) {
  auto& map = snapshot_.resources_[Index(resource->type)];
  if (map.contains(resource->name)) {
    errors_.push_back(std::string(ShortName(resource->type)) + ": duplicate resource name " + resource->name);
    return false;
  }
  std::string name = resource->name;
  map.emplace(std::move(name), std::move(resource));
  return true;
}

void SnapshotBuilder::SetVersion(ResourceType type, std::string version) {
  snapshot_.versions_[Index(type)] = std::move(version);
  version_set_[Index(type)] = true;
}

SnapshotPtr SnapshotBuilder::Build() && {
  for (ResourceType type : kPushOrder) {
    if (version_set_[Index(type)]) continue;
    // Separators keep ("ab","c") and ("a","bc") apart; the map iterates in name order.
    std::string digest_input;
    for (const auto& [name, resource] : snapshot_.Resources(type)) {
      digest_input += name;
      digest_input += '\0';
      digest_input += resource->version;
      digest_input += '\n';
    }
    snapshot_.versions_[Index(type)] = ContentVersion(digest_input);
  }
  snapshot_.consistency_errors_ = snapshot_.ComputeConsistencyErrors();
  return std::make_shared<const Snapshot>(std::move(snapshot_));
}

}  // namespace cmesh::xds
