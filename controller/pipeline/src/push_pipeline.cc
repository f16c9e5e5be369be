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

bool SameVersions(const xds::Snapshot& a, const xds::Snapshot& b) {
  for (xds::ResourceType type : xds::kPushOrder) {
    if (a.Version(type) != b.Version(type)) return false;
  }
  return true;
}

// Length-prefixed, so no id or label can forge a separator.
void AppendField(std::string* out, std::string_view field) {
  *out += std::to_string(field.size());
  *out += ':';
  *out += field;
}

}  // namespace

PushPipeline::PushPipeline(xds::SnapshotPublisher& publisher, xds::ResourceInterner& interner,
                           const Scheduler& clock, PushPipelineOptions options)
    : publisher_(publisher),
      interner_(interner),
      clock_(clock),
      options_(std::move(options)),
      incremental_(options_.mesh) {
  options_.max_concurrent_pushes = std::max<std::size_t>(1, options_.max_concurrent_pushes);
  index_ = incremental_.index();
}

std::string PushPipeline::ProxyKey(const compiler::ProxyNode& proxy) {
  std::string key = "proxy:";
  AppendField(&key, proxy.id);
  key += ";labels:";
  for (const auto& [name, value] : proxy.labels) {
    AppendField(&key, name);
    AppendField(&key, value);
  }
  key += ";generator:";
  AppendField(&key, proxy.generator);
  return key;
}

std::string PushPipeline::GroupKeyOf(const compiler::ConfigIndex& index, const compiler::ProxyNode& proxy) const {
  return compiler::IsProxylessGrpc(proxy) ? compiler::ProxylessGrpcKey(index, proxy, {})
                                          : compiler::ProxySnapshotKey(index, proxy);
}

xds::SnapshotPtr PushPipeline::CompileGroup(Group* group) {
  const compiler::ProxyNode& proxy = group->representative;
  if (compiler::IsProxylessGrpc(proxy)) {
    const compiler::ConfigIndex& index = *incremental_.index();
    group->resources = compiler::CompileProxylessGrpc(index, proxy, options_.mesh,
                                                      compiler::ProxylessGrpcListenerNames(index, proxy, options_.mesh));
  } else {
    incremental_.CompileInto(proxy, &group->resources);
  }
  SnapshotResult result = ToSnapshot(group->resources, interner_);
  std::lock_guard lock(mutex_);
  group->status.warnings = group->resources.warnings;
  if (!result.ok()) {
    group->status.errors = std::move(result.errors);
    return nullptr;
  }
  group->status.errors.clear();
  // Unchanged output: nothing to push (the streams would send nothing anyway, but skipping the
  // publisher saves every watcher a wake-up).
  if (group->status.snapshot != nullptr && SameVersions(*group->status.snapshot, *result.snapshot)) return nullptr;
  return std::move(result.snapshot);
}

bool PushPipeline::Publish(Group* group, xds::SnapshotPtr candidate, SteadyTime change_time) {
  xds::SnapshotPtr snapshot;
  std::vector<std::string> targets;
  {
    std::lock_guard lock(mutex_);
    snapshot = candidate ? candidate : group->status.snapshot;
    if (snapshot == nullptr) return false;
    for (const std::string& key : group->members) {
      if (members_.at(key).published != snapshot) targets.push_back(key);
    }
  }
  // Outside the lock: the publisher delivers to the streams at once, and a stream's ACK handling
  // (ChangeTimeFor) takes the lock while holding its session's.
  std::vector<std::string> delivered;
  std::vector<std::string> refused;
  for (const std::string& key : targets) {
    std::vector<std::string> errors = publisher_.SetSnapshot(key, snapshot);
    if (errors.empty()) {
      delivered.push_back(key);
    } else if (refused.empty()) {
      refused = std::move(errors);
    }
  }
  std::lock_guard lock(mutex_);
  for (const std::string& key : delivered) members_.at(key).published = snapshot;
  if (!targets.empty()) group->status.published_time = clock_.Now();
  if (!refused.empty()) {
    // The group's snapshot stays the last accepted one, so the next change retries.
    group->status.errors = std::move(refused);
    return false;
  }
  if (candidate == nullptr) return false;
  Group::Publication publication;
  for (xds::ResourceType type : xds::kPushOrder) publication.versions[xds::Index(type)] = candidate->Version(type);
  publication.change_time = change_time;
  group->history.push_back(std::move(publication));
  if (group->history.size() > kHistory) group->history.pop_front();
  group->status.snapshot = std::move(candidate);
  group->status.change_time = change_time;
  group->status.published_time = clock_.Now();
  ++group->status.publishes;
  return true;
}

PushStats PushPipeline::ApplyConfig(std::shared_ptr<const model::ConfigSet> config, const ObjectKeySet& changed,
                                    SteadyTime change_time) {
  (void)changed;  // the incremental compiler finds what changed by content hash; see the header
  std::unique_lock push_lock(push_mutex_);
  const SteadyTime start = clock_.Now();
  incremental_.Update(std::move(config));
  std::shared_ptr<const compiler::ConfigIndex> index = incremental_.index();
  PushStats stats;
  std::vector<Group*> groups;
  std::vector<std::string> dropped;
  {
    std::lock_guard lock(mutex_);
    index_ = index;
    // Regroup: a proxy whose key changed moves (a new group starts with it as representative).
    for (auto& [proxy_key, member] : members_) {
      std::string key = GroupKeyOf(*index, member.proxy);
      if (key == member.group) continue;
      auto& old_members = groups_.at(member.group)->members;
      old_members.erase(std::find(old_members.begin(), old_members.end(), proxy_key));
      auto& group = groups_[key];
      if (!group) {
        group = std::make_unique<Group>();
        group->representative = member.proxy;
        group->status.key = key;
      }
      group->members.insert(std::lower_bound(group->members.begin(), group->members.end(), proxy_key), proxy_key);
      member.group = std::move(key);
      ++stats.moved;
    }
    for (auto it = groups_.begin(); it != groups_.end();) {
      if (it->second->members.empty()) {
        dropped.push_back(it->first);
        it = groups_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [key, group] : groups_) {
      // The representative must be a member: the one it was may have moved away.
      auto rep = members_.find(ProxyKey(group->representative));
      if (rep == members_.end() || rep->second.group != key) {
        group->representative = members_.at(group->members.front()).proxy;
      }
      group->status.proxy_id = group->representative.id;
      group->status.members = group->members.size();
      groups.push_back(group.get());
    }
  }
  for (const std::string& key : dropped) incremental_.Forget(key);

  // Compile one group after the other (see the header), then publish on the workers.
  std::vector<xds::SnapshotPtr> candidates;
  candidates.reserve(groups.size());
  for (Group* group : groups) candidates.push_back(CompileGroup(group));
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> published{0};
  std::atomic<std::size_t> failed{0};
  auto work = [&] {
    for (std::size_t i = next++; i < groups.size(); i = next++) {
      // Also for unchanged output: members that moved here still need this group's snapshot.
      if (Publish(groups[i], std::move(candidates[i]), change_time)) ++published;
      std::lock_guard lock(mutex_);
      if (!groups[i]->status.errors.empty()) ++failed;
    }
  };
  const std::size_t workers = std::min(options_.max_concurrent_pushes, groups.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();  // the calling thread is one of the workers
  for (std::thread& thread : threads) thread.join();
  stats.compiled = groups.size();
  stats.published = published.load();
  stats.failed = failed.load();
  stats.duration = clock_.Now() - start;
  push_lock.unlock();
  if (options_.on_push) options_.on_push(stats);
  return stats;
}

std::string PushPipeline::RegisterProxy(const compiler::ProxyNode& proxy) {
  const std::string proxy_key = ProxyKey(proxy);
  std::lock_guard push_lock(push_mutex_);
  std::shared_ptr<const compiler::ConfigIndex> index;
  Group* group = nullptr;
  bool created = false;
  {
    std::lock_guard lock(mutex_);
    Member& member = members_[proxy_key];
    if (member.registrations++ > 0) return proxy_key;  // another stream of a known proxy
    index = index_;
    member.proxy = proxy;
    member.group = GroupKeyOf(*index, proxy);
    auto& entry = groups_[member.group];
    if (!entry) {
      entry = std::make_unique<Group>();
      entry->representative = proxy;
      entry->status.key = member.group;
      entry->status.proxy_id = proxy.id;
      created = true;
    }
    entry->members.insert(std::lower_bound(entry->members.begin(), entry->members.end(), proxy_key), proxy_key);
    entry->status.members = entry->members.size();
    group = entry.get();
  }
  Publish(group, created ? CompileGroup(group) : nullptr, clock_.Now());
  return proxy_key;
}

bool PushPipeline::ReleaseProxy(const std::string& proxy_key) {
  std::lock_guard push_lock(push_mutex_);  // not while a wave publishes to it
  {
    std::lock_guard lock(mutex_);
    auto it = members_.find(proxy_key);
    if (it == members_.end() || --it->second.registrations > 0) return false;
    auto group = groups_.find(it->second.group);
    auto& members = group->second->members;
    members.erase(std::find(members.begin(), members.end(), proxy_key));
    group->second->status.members = members.size();
    if (members.empty()) {
      incremental_.Forget(group->first);
      groups_.erase(group);
    } else if (ProxyKey(group->second->representative) == proxy_key) {
      // Same group key, so any member gives the same output.
      group->second->representative = members_.at(members.front()).proxy;
      group->second->status.proxy_id = group->second->representative.id;
    }
    members_.erase(it);
  }
  publisher_.ClearSnapshot(proxy_key);
  return true;
}

const PushPipeline::Group* PushPipeline::FindGroupLocked(const std::string& key) const {
  auto group = groups_.find(key);
  if (group != groups_.end()) return group->second.get();
  auto member = members_.find(key);
  if (member == members_.end()) return nullptr;
  group = groups_.find(member->second.group);
  return group == groups_.end() ? nullptr : group->second.get();
}

std::optional<GroupStatus> PushPipeline::Status(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const Group* group = FindGroupLocked(key);
  if (group == nullptr) return std::nullopt;
  return group->status;
}

std::optional<std::string> PushPipeline::GroupOf(const std::string& proxy_key) const {
  std::lock_guard lock(mutex_);
  auto it = members_.find(proxy_key);
  if (it == members_.end()) return std::nullopt;
  return it->second.group;
}

std::optional<SteadyTime> PushPipeline::ChangeTimeFor(const std::string& key, xds::ResourceType type,
                                                      const std::string& version) const {
  std::lock_guard lock(mutex_);
  const Group* group = FindGroupLocked(key);
  if (group == nullptr) return std::nullopt;
  const auto& history = group->history;
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

std::size_t PushPipeline::proxies() const {
  std::lock_guard lock(mutex_);
  return members_.size();
}

std::shared_ptr<const compiler::ConfigIndex> PushPipeline::index() const {
  std::lock_guard lock(mutex_);
  return index_;
}

}  // namespace cmesh::pipeline
