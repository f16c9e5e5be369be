#include "cmesh/pipeline/push_pipeline.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "cmesh/compiler/grpc_proxyless.h"
#include "cmesh/compiler/snapshot_key.h"
#include "cmesh/pipeline/to_snapshot.h"

namespace cmesh::pipeline {

namespace {

enum class Outcome { kUnchanged, kPublished, kFailed };

bool SameVersions(const xds::Snapshot& a, const xds::Snapshot& b) {
  for (xds::ResourceType type : xds::kPushOrder) {
    if (a.Version(type) != b.Version(type)) return false;
  }
  return true;
}

}  // namespace

PushPipeline::PushPipeline(xds::SnapshotPublisher& publisher, xds::ResourceInterner& interner,
                           const Scheduler& clock, PushPipelineOptions options)
    : publisher_(publisher), interner_(interner), clock_(clock), options_(std::move(options)) {
  options_.max_concurrent_pushes = std::max<std::size_t>(1, options_.max_concurrent_pushes);
  index_ = compiler::BuildIndex(std::make_shared<const model::ConfigSet>(), options_.mesh);
}

bool PushPipeline::CompileGroup(const compiler::ConfigIndex& index, Group* group, SteadyTime change_time) {
  compiler::XdsResources resources =
      compiler::IsProxylessGrpc(group->representative)
          ? compiler::CompileProxylessGrpc(index, group->representative, options_.mesh, group->listener_names)
          : compiler::Compile(index, group->representative, options_.mesh);
  SnapshotResult result = ToSnapshot(resources, interner_);
  xds::SnapshotPtr previous;
  {
    std::lock_guard lock(mutex_);
    group->status.warnings = resources.warnings;
    previous = group->status.snapshot;
    if (!result.ok()) {
      group->status.errors = std::move(result.errors);
      return false;
    }
    group->status.errors.clear();
  }
  // Unchanged output: nothing to push (the streams would send nothing anyway, but skipping the
  // cache saves every watcher a wake-up).
  if (previous != nullptr && SameVersions(*previous, *result.snapshot)) return false;
  std::vector<std::string> refused = publisher_.SetSnapshot(group->status.key, result.snapshot);
  std::lock_guard lock(mutex_);
  if (!refused.empty()) {
    group->status.errors = std::move(refused);
    return false;
  }
  Group::Publication publication;
  for (xds::ResourceType type : xds::kPushOrder) publication.versions[xds::Index(type)] = result.snapshot->Version(type);
  publication.change_time = change_time;
  group->history.push_back(std::move(publication));
  if (group->history.size() > kHistory) group->history.pop_front();
  group->status.snapshot = std::move(result.snapshot);
  group->status.change_time = change_time;
  group->status.published_time = clock_.Now();
  ++group->status.publishes;
  return true;
}

PushStats PushPipeline::ApplyConfig(std::shared_ptr<const model::ConfigSet> config, const ObjectKeySet& changed,
                                    SteadyTime change_time) {
  (void)changed;  // every group is recompiled; see the header
  std::lock_guard push_lock(push_mutex_);
  std::shared_ptr<const compiler::ConfigIndex> index = compiler::BuildIndex(std::move(config), options_.mesh);
  std::vector<Group*> groups;
  {
    std::lock_guard lock(mutex_);
    index_ = index;
    for (auto& [key, group] : groups_) groups.push_back(group.get());
  }
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> published{0};
  std::atomic<std::size_t> failed{0};
  auto work = [&] {
    for (std::size_t i = next++; i < groups.size(); i = next++) {
      if (CompileGroup(*index, groups[i], change_time)) {
        ++published;
      } else {
        std::lock_guard lock(mutex_);
        if (!groups[i]->status.errors.empty()) ++failed;
      }
    }
  };
  const std::size_t workers = std::min(options_.max_concurrent_pushes, groups.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();  // the calling thread is one of the workers
  for (std::thread& thread : threads) thread.join();
  return PushStats{groups.size(), published.load(), failed.load()};
}

std::string PushPipeline::RegisterProxy(const compiler::ProxyNode& proxy, std::vector<std::string> requested_listeners) {
  std::lock_guard push_lock(push_mutex_);
  std::shared_ptr<const compiler::ConfigIndex> index;
  Group* group = nullptr;
  std::string key;
  {
    std::lock_guard lock(mutex_);
    index = index_;
    const bool proxyless = compiler::IsProxylessGrpc(proxy);
    key = proxyless ? compiler::ProxylessGrpcKey(*index, proxy, requested_listeners)
                    : compiler::ProxySnapshotKey(*index, proxy);
    if (groups_.contains(key)) return key;
    auto created = std::make_unique<Group>();
    created->representative = proxy;
    if (proxyless) created->listener_names = std::move(requested_listeners);
    created->status.key = key;
    created->status.proxy_id = proxy.id;
    group = created.get();
    groups_.emplace(key, std::move(created));
  }
  CompileGroup(*index, group, clock_.Now());
  return key;
}

bool PushPipeline::RemoveGroup(const std::string& group_key) {
  std::lock_guard push_lock(push_mutex_);  // not while a wave compiles it
  {
    std::lock_guard lock(mutex_);
    if (groups_.erase(group_key) == 0) return false;
  }
  publisher_.ClearSnapshot(group_key);
  return true;
}

std::optional<GroupStatus> PushPipeline::Status(const std::string& group_key) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find(group_key);
  if (it == groups_.end()) return std::nullopt;
  return it->second->status;
}

std::optional<SteadyTime> PushPipeline::ChangeTimeFor(const std::string& group_key, xds::ResourceType type,
                                                      const std::string& version) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find(group_key);
  if (it == groups_.end()) return std::nullopt;
  const auto& history = it->second->history;
  // The newest publication carrying `version`, then back over the run of older ones that carried
  // it too: the version was introduced by the oldest of that run (A → B → A is dated by the
  // second A, not the first).
  std::optional<SteadyTime> found;
  for (auto entry = history.rbegin(); entry != history.rend(); ++entry) {
    const bool match = entry->versions[xds::Index(type)] == version;
    if (match) {
      found = entry->change_time;
    } else if (found) {
      break;
    }
  }
  return found;
}

std::vector<std::string> PushPipeline::GroupKeys() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  for (const auto& [key, group] : groups_) keys.push_back(key);
  return keys;
}

std::shared_ptr<const compiler::ConfigIndex> PushPipeline::index() const {
  std::lock_guard lock(mutex_);
  return index_;
}

}  // namespace cmesh::pipeline
