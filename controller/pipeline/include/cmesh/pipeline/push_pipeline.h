// From a config change to published snapshots, one per group of proxies.
//
// Groups are keyed by compiler::ProxySnapshotKey: proxies with equal keys get identical output,
// so the pipeline compiles once per group (for a representative proxy) and publishes through
// xds::SnapshotPublisher, where every stream of the group shares the snapshot.
//
// On a config change every registered group is recompiled (BuildIndex once, then Compile per
// group; the shared interner serialises only resource versions not seen before), but only the
// groups whose snapshot versions changed are published:
// a group whose output is unchanged causes no push at all. Narrowing the recompilation itself to
// the groups a change can affect is left for later; this is simple and always correct.
//
// Compilations run on at most `max_concurrent_pushes` threads at once, which bounds the memory
// and CPU of one push wave.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/mesh_options.h"
#include "cmesh/compiler/proxy_node.h"
#include "cmesh/model/config_set.h"
#include "cmesh/pipeline/debouncer.h"
#include "cmesh/pipeline/object_key.h"
#include "cmesh/xds/resource_interner.h"
#include "cmesh/xds/snapshot_cache.h"

namespace cmesh::pipeline {

struct PushPipelineOptions {
  compiler::MeshOptions mesh;
  std::size_t max_concurrent_pushes = 4;
};

// What a group last published, and which change it reflects.
struct GroupStatus {
  std::string key;
  std::string proxy_id;  // the representative proxy
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

  // The group key of `proxy` under the current config. A proxy with a key not seen before makes
  // it a group, compiled and published before this returns (its first snapshot then exists for
  // the stream that asked). Use as the xDS server's GroupKeyFunction.
  //
  // A proxyless gRPC client (compiler::IsProxylessGrpc) gets CompileProxylessGrpc's output for
  // `requested_listeners` (its LDS names), keyed by compiler::ProxylessGrpcKey; a sidecar's
  // output ignores them.
  std::string RegisterProxy(const compiler::ProxyNode& proxy, std::vector<std::string> requested_listeners = {});

  // Forgets a group no proxy uses any more (the caller tracks its streams): it is no longer
  // compiled, and its snapshot is cleared from the publisher. False when there was none.
  bool RemoveGroup(const std::string& group_key);

  std::optional<GroupStatus> Status(const std::string& group_key) const;

  // For convergence time: when the change that produced `version` of `type` in the group was
  // first seen. Streams are pipelined, so an ACK may be for an older publication than the
  // latest; the last kHistory publications per group are remembered. A type whose version did
  // not change over several publications dates from the first of them. nullopt when unknown.
  static constexpr std::size_t kHistory = 16;
  std::optional<SteadyTime> ChangeTimeFor(const std::string& group_key, xds::ResourceType type,
                                          const std::string& version) const;
  std::vector<std::string> GroupKeys() const;
  std::shared_ptr<const compiler::ConfigIndex> index() const;

 private:
  struct Group {
    compiler::ProxyNode representative;
    std::vector<std::string> listener_names;  // proxyless gRPC only
    GroupStatus status;
    struct Publication {
      std::array<std::string, xds::kResourceTypeCount> versions;
      SteadyTime change_time;
    };
    std::deque<Publication> history;  // oldest first, at most kHistory
  };
  // Compiles and, when its versions changed, publishes one group; returns true when published.
  // Runs without `mutex_`; only the group's own entry is touched, by exactly one thread.
  bool CompileGroup(const compiler::ConfigIndex& index, Group* group, SteadyTime change_time);

  xds::SnapshotPublisher& publisher_;
  xds::ResourceInterner& interner_;
  const Scheduler& clock_;
  PushPipelineOptions options_;

  // One push at a time (a push wave is itself parallel); registration waits for it.
  std::mutex push_mutex_;
  mutable std::mutex mutex_;  // guards index_ and groups_' map shape and statuses for readers
  std::shared_ptr<const compiler::ConfigIndex> index_;
  std::map<std::string, std::unique_ptr<Group>> groups_;
};

}  // namespace cmesh::pipeline
