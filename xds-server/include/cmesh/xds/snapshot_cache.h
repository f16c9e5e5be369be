// Snapshots by group key. Proxies whose compiled output is identical share a group key, and so
// one snapshot and its serialised resources. The controller sees only SnapshotPublisher, the
// server only SnapshotSource; neither knows the other, and the cache knows nothing of gRPC.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cmesh/xds/snapshot.h"

namespace cmesh::xds {

// Cancels its watch when destroyed or Cancel()ed; after that returns, the callback is not running
// and will not run again. Cancel from inside the callback itself is allowed.
class WatchHandle {
 public:
  struct State;
  WatchHandle() = default;
  explicit WatchHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}
  WatchHandle(WatchHandle&&) noexcept = default;
  WatchHandle& operator=(WatchHandle&& other) noexcept;
  ~WatchHandle() { Cancel(); }
  void Cancel();

 private:
  std::shared_ptr<State> state_;
};

using SnapshotCallback = std::function<void(const SnapshotPtr&)>;

// What the xDS server needs.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // nullptr when the group has no snapshot yet.
  virtual SnapshotPtr GetSnapshot(const std::string& group_key) const = 0;
  // Calls `callback` with every later snapshot of the group (nullptr when cleared), in SetSnapshot
  // order: a slow delivery never overwrites a newer one. It is not called with the current one;
  // that is stored in `*current` (when given) atomically with the registration, so nothing is
  // missed and nothing older arrives afterwards.
  virtual WatchHandle Watch(const std::string& group_key, SnapshotCallback callback,
                            SnapshotPtr* current = nullptr) = 0;
};

// What the controller needs.
class SnapshotPublisher {
 public:
  virtual ~SnapshotPublisher() = default;
  // Refuses (returns the errors, keeps the old snapshot) an inconsistent snapshot.
  virtual std::vector<std::string> SetSnapshot(const std::string& group_key, SnapshotPtr snapshot) = 0;
  // Watchers get nullptr; a key with no watchers left is forgotten entirely.
  virtual void ClearSnapshot(const std::string& group_key) = 0;
};

class SnapshotCache final : public SnapshotSource, public SnapshotPublisher {
 public:
  SnapshotPtr GetSnapshot(const std::string& group_key) const override;
  WatchHandle Watch(const std::string& group_key, SnapshotCallback callback,
                    SnapshotPtr* current = nullptr) override;
  std::vector<std::string> SetSnapshot(const std::string& group_key, SnapshotPtr snapshot) override;
  void ClearSnapshot(const std::string& group_key) override;

  std::vector<std::string> GroupKeys() const;

 private:
  void Publish(const std::string& group_key, SnapshotPtr snapshot);

  struct Group {
    SnapshotPtr snapshot;
    std::uint64_t sequence = 0;
    std::vector<std::weak_ptr<WatchHandle::State>> watchers;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Group, std::less<>> groups_;
};

}  // namespace cmesh::xds
