// From a config change to published snapshots, one per group of proxies.
//
// Proxies register (RegisterProxy) when their first stream names them and are released
// (ReleaseProxy) when their last stream ends. Each registered proxy is published under its own
// key (ProxyKey: its node id, labels and generator, everything the pipeline knows of it), and
// belongs to a group keyed by compiler::ProxySnapshotKey (ProxylessGrpcKey for proxyless gRPC
// clients): proxies with equal keys get identical output, so the pipeline compiles once per
// group, for a representative proxy, and publishes that one snapshot (the same object, so the
// same serialised bytes) under the key of every member.
//
// A proxy's group is decided again on every config change, since a change can alter the key (a
// new sourceLabels match makes a label relevant, a Pod update changes its labels or ports): a
// proxy whose key changed moves to its new group and is published that group's snapshot, while
// its streams keep watching the same proxy key.
//
// On a config change the config is handed to one compiler::IncrementalCompiler, which keeps,
// per group, every resource whose inputs did not change and rebuilds only the others (a group
// none of whose inputs changed costs hashing, not compiling). Only the groups whose snapshot
// versions changed are published, and only to their members: a group whose output is unchanged
// causes no push at all. Proxyless gRPC groups are compiled in full (CompileProxylessGrpc over
// the same index).
//
// The incremental compiler is single-threaded, so groups are compiled one after the other; their
// publications (the deliveries to every stream of the group) run on at most
// `max_concurrent_pushes` threads at once, which bounds the memory and CPU of one push wave.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/incremental_compiler.h"
#include "cmesh/compiler/mesh_options.h"
#include "cmesh/compiler/proxy_node.h"
#include "cmesh/model/config_set.h"
#include "cmesh/pipeline/debouncer.h"
#include "cmesh/pipeline/object_key.h"
#include "cmesh/xds/resource_interner.h"
#include "cmesh/xds/snapshot_cache.h"

namespace cmesh::pipeline {

struct PushStats;

struct PushPipelineOptions {
  compiler::MeshOptions mesh;
  std::size_t max_concurrent_pushes = 4;
  // Called at the end of every ApplyConfig (on its thread, no lock held), for logs and metrics.
  std::function<void(const PushStats&)> on_push;
};

// What a group last published, and which change it reflects.
struct GroupStatus {
  std::string key;
  std::string proxy_id;  // the representative proxy
  std::size_t members = 0;
  // Time of the first event of the change burst the published snapshot reflects (the start of
  // the convergence time); the registration time for a group's first snapshot.
  SteadyTime change_time{};
  SteadyTime published_time{};
  std::uint64_t publishes = 0;
  xds::SnapshotPtr snapshot;         // the one published (null before the first success)
  std::vector<std::string> errors;   // of the last attempt; the previous snapshot keeps serving
  std::vector<std::string> warnings; // the compiler's, from the last compilation
};

// Counts of the last ApplyConfig, for logs, metrics and tests.
struct PushStats {
  std::size_t compiled = 0;   // groups recompiled
  std::size_t published = 0;  // groups whose snapshot changed and was published
  std::size_t failed = 0;     // groups whose new output was refused (inconsistent)
  std::size_t moved = 0;      // proxies whose group changed with the config
  // From the start of ApplyConfig until every changed snapshot was handed to its proxies' streams
  // (by the pipeline's clock).
  std::chrono::nanoseconds duration{0};
};

class PushPipeline {
 public:
  // `publisher`, `interner` and `clock` must outlive the pipeline; `clock` stamps publications.
  PushPipeline(xds::SnapshotPublisher& publisher, xds::ResourceInterner& interner,
               const Scheduler& clock, PushPipelineOptions options = {});

  // Replaces the config and pushes what changed. `changed` names the objects (for logs; every
  // group is recompiled, see above); `change_time` is when the change was first seen.
  PushStats ApplyConfig(std::shared_ptr<const model::ConfigSet> config, const ObjectKeySet& changed,
                        SteadyTime change_time);

  // Registers one stream of `proxy` and returns the key its snapshots are published under (use
  // as the xDS server's GroupKeyFunction). A proxy's first registration joins (or creates) its
  // group and publishes the group's snapshot under the proxy's key before returning, so the
  // stream that asked finds it. Every call must be paired with one ReleaseProxy.
  //
  // A proxyless gRPC client (compiler::IsProxylessGrpc) gets CompileProxylessGrpc's output for
  // every name it could ask LDS for (compiler::ProxylessGrpcListenerNames): the names a client
  // subscribes to are chosen by its stream, so one snapshot serves every client of the group,
  // whichever targets it dials, and a target that appears later is already there.
  std::string RegisterProxy(const compiler::ProxyNode& proxy);

  // Ends one registration of the proxy published under `proxy_key`. The last one forgets the
  // proxy and clears its key in the publisher; a group left without members is no longer
  // compiled. True when that was the last registration; false otherwise (also for unknown keys).
  bool ReleaseProxy(const std::string& proxy_key);

  // The key a proxy's snapshots are published under: stable for the proxy, whatever the config.
  static std::string ProxyKey(const compiler::ProxyNode& proxy);

  // `key` is a group key or a proxy key (then the status of the proxy's current group).
  std::optional<GroupStatus> Status(const std::string& key) const;
  // The current group of a registered proxy; nullopt for unknown proxy keys.
  std::optional<std::string> GroupOf(const std::string& proxy_key) const;

  // For convergence time: when the change that produced `version` of `type` in the group was
  // first seen. `key` is a group key or a proxy key (then its current group). Streams are
  // pipelined, so an ACK may be for an older publication than the latest; the last kHistory
  // publications per group are remembered. A type whose version did not change over several
  // publications dates from the first of them. nullopt when unknown.
  static constexpr std::size_t kHistory = 16;
  std::optional<SteadyTime> ChangeTimeFor(const std::string& key, xds::ResourceType type,
                                          const std::string& version) const;
  std::vector<std::string> GroupKeys() const;
  std::size_t proxies() const;
  std::shared_ptr<const compiler::ConfigIndex> index() const;

 private:
  struct Member {
    compiler::ProxyNode proxy;
    std::string group;            // its current group's key
    xds::SnapshotPtr published;   // what was last published under its key
    std::size_t registrations = 0;
  };
  struct Group {
    compiler::ProxyNode representative;
    compiler::XdsResources resources;  // the last compilation (sidecars: patched in place)
    GroupStatus status;
    std::vector<std::string> members;  // proxy keys, sorted
    struct Publication {
      std::array<std::string, xds::kResourceTypeCount> versions;
      SteadyTime change_time;
    };
    std::deque<Publication> history;  // oldest first, at most kHistory
  };
  std::string GroupKeyOf(const compiler::ConfigIndex& index, const compiler::ProxyNode& proxy) const;
  // Compiles one group: the new snapshot when its versions changed, else nullptr (also on
  // errors, recorded in its status). Under `push_mutex_` (the incremental compiler is not
  // thread-safe), without `mutex_`.
  xds::SnapshotPtr CompileGroup(Group* group);
  // Publishes `candidate` (when given, then it becomes the group's snapshot) or else the group's
  // current snapshot under every member key that does not have it yet. True when a candidate
  // was published; a refusal is recorded in the group's errors and keeps the old snapshot.
  bool Publish(Group* group, xds::SnapshotPtr candidate, SteadyTime change_time);
  const Group* FindGroupLocked(const std::string& key) const;

  xds::SnapshotPublisher& publisher_;
  xds::ResourceInterner& interner_;
  const Scheduler& clock_;
  PushPipelineOptions options_;

  // One push at a time (a push wave is itself parallel); registration waits for it.
  std::mutex push_mutex_;
  compiler::IncrementalCompiler incremental_;  // under push_mutex_
  // Guards index_, the shape of both maps, members' group and published fields, and statuses
  // for readers. Group contents are written by one wave worker at a time, under it.
  mutable std::mutex mutex_;
  std::shared_ptr<const compiler::ConfigIndex> index_;
  std::map<std::string, std::unique_ptr<Group>> groups_;
  std::map<std::string, Member> members_;
};

}  // namespace cmesh::pipeline
