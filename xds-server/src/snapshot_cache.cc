#include "cmesh/xds/snapshot_cache.h"

#include <algorithm>

namespace cmesh::xds {

// Shared between the handle and the cache (which holds it weakly). The recursive mutex lets a
// callback cancel its own watch; holding it during delivery is what makes Cancel() a barrier.
struct WatchHandle::State {
  std::recursive_mutex mutex;
  bool active = true;
  std::uint64_t delivered = 0;  // sequence of the last delivered snapshot
  SnapshotCallback callback;
};

WatchHandle& WatchHandle::operator=(WatchHandle&& other) noexcept {
  if (this != &other) {
    Cancel();
    state_ = std::move(other.state_);
  }
  return *this;
}

void WatchHandle::Cancel() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->active = false;
  }
  state_.reset();
}

SnapshotPtr SnapshotCache::GetSnapshot(const std::string& group_key) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find(group_key);
  return it == groups_.end() ? nullptr : it->second.snapshot;
}

WatchHandle SnapshotCache::Watch(const std::string& group_key, SnapshotCallback callback, SnapshotPtr* current) {
  auto state = std::make_shared<WatchHandle::State>();
  state->callback = std::move(callback);
  std::lock_guard lock(mutex_);
  Group& group = groups_[group_key];
  state->delivered = group.sequence;  // only later snapshots are delivered
  if (current) *current = group.snapshot;
  group.watchers.push_back(state);
  return WatchHandle(std::move(state));
}

std::vector<std::string> SnapshotCache::SetSnapshot(const std::string& group_key, SnapshotPtr snapshot) {
  if (!snapshot) return {"SetSnapshot: null snapshot for group " + group_key};
  std::vector<std::string> errors = snapshot->CheckConsistency();
  if (!errors.empty()) return errors;
  Publish(group_key, std::move(snapshot));
  return {};
}

void SnapshotCache::ClearSnapshot(const std::string& group_key) { Publish(group_key, nullptr); }

void SnapshotCache::Publish(const std::string& group_key, SnapshotPtr snapshot) {
  std::vector<std::shared_ptr<WatchHandle::State>> targets;
  std::uint64_t sequence;
  {
    std::lock_guard lock(mutex_);
    Group& group = groups_[group_key];
    group.snapshot = snapshot;
    sequence = ++group.sequence;
    auto& watchers = group.watchers;
    watchers.erase(std::remove_if(watchers.begin(), watchers.end(), [](const auto& w) { return w.expired(); }),
                   watchers.end());
    for (const auto& weak : watchers) {
      if (auto state = weak.lock()) targets.push_back(std::move(state));
    }
    // A cleared group nobody watches is forgotten, so proxies that come and go (pods replaced
    // all day long) leave no entry behind.
    if (snapshot == nullptr && targets.empty()) groups_.erase(group_key);
  }
  // Delivered outside the cache lock, so a callback may call back into the cache.
  for (const auto& state : targets) {
    std::lock_guard lock(state->mutex);
    if (!state->active || state->delivered >= sequence) continue;
    state->delivered = sequence;
    state->callback(snapshot);
  }
}

std::vector<std::string> SnapshotCache::GroupKeys() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  for (const auto& [key, group] : groups_) {
    if (group.snapshot) keys.push_back(key);
  }
  return keys;
}

}  // namespace cmesh::xds
