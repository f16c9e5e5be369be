// An immutable set of resources for one group of proxies: per type, resources by name and a
// version for the type's whole set. Streams hold a SnapshotPtr, so a snapshot lives as long as
// some stream still sends from it, and its resources live as long as some snapshot holds them.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cmesh/xds/resource.h"

namespace cmesh::xds {

class Snapshot {
 public:
  using ResourceMap = std::map<std::string, ResourcePtr, std::less<>>;

  const ResourceMap& Resources(ResourceType type) const { return resources_[Index(type)]; }
  // Digest of the type's (name, version) pairs; sent as version_info.
  const std::string& Version(ResourceType type) const { return versions_[Index(type)]; }
  // nullptr when absent.
  ResourcePtr Find(ResourceType type, std::string_view name) const;

  // Every RDS name a listener loads has its RouteConfiguration, and every EDS cluster has its
  // ClusterLoadAssignment: a client would otherwise wait (and warm) forever. Empty when consistent.
  // Computed once when the snapshot is built (it is immutable), so publishing one snapshot to
  // many proxies checks it once.
  const std::vector<std::string>& CheckConsistency() const { return consistency_errors_; }

  // The names of `type` in this snapshot whose resource is new or different in `older`, in name
  // order. Every stream of a group moves between the same two snapshots, so the answer for the
  // last `older` is kept: computed by the first stream, read by the others. Thread-safe.
  std::shared_ptr<const std::vector<std::string_view>> ChangedSince(const std::shared_ptr<const Snapshot>& older,
                                                                    ResourceType type) const;

 private:
  friend class SnapshotBuilder;
  std::vector<std::string> ComputeConsistencyErrors() const;

  std::array<ResourceMap, kResourceTypeCount> resources_;
  std::array<std::string, kResourceTypeCount> versions_;
  std::vector<std::string> consistency_errors_;

  // Behind a pointer, so the snapshot stays movable (the builder moves it into place).
  struct ChangeCache {
    std::mutex mutex;
    std::weak_ptr<const Snapshot> from;
    std::array<std::shared_ptr<const std::vector<std::string_view>>, kResourceTypeCount> changed;
  };
  std::unique_ptr<ChangeCache> change_cache_ = std::make_unique<ChangeCache>();
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

class SnapshotBuilder {
 public:
  // False (and the resource is not added) when the type already holds that name.
  bool Add(ResourcePtr resource);
  // Overrides the computed version of a type's set (e.g. with the compiler's own digest).
  void SetVersion(ResourceType type, std::string version);
  // Names added twice, as "LDS: duplicate resource name X".
  const std::vector<std::string>& errors() const { return errors_; }

  SnapshotPtr Build() &&;

 private:
  Snapshot snapshot_;
  std::array<bool, kResourceTypeCount> version_set_{};
  std::vector<std::string> errors_;
};

}  // namespace cmesh::xds
