// The control plane's metrics, named like Istio's pilot where one exists.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cmesh/metrics/counter.h"
#include "cmesh/metrics/family.h"
#include "cmesh/metrics/gauge.h"
#include "cmesh/metrics/histogram.h"
#include "cmesh/metrics/registry.h"
#include "cmesh/kube_source/informer.h"
#include "cmesh/model/config_set.h"
#include "cmesh/model/diagnostic.h"
#include "cmesh/pipeline/push_pipeline.h"
#include "cmesh/xds/snapshot_cache.h"
#include "cmesh/xds/stream_status.h"

namespace cmesh::pilot {

struct PilotMetrics {
  explicit PilotMetrics(metrics::Registry& registry);

  metrics::GaugeFamily& connected;           // pilot_xds
  metrics::CounterFamily& pushes;            // pilot_xds_pushes{type}
  metrics::CounterFamily& rejects;           // pilot_total_xds_rejects{type}
  metrics::HistogramFamily& convergence;     // pilot_proxy_convergence_time
  metrics::HistogramFamily& push_time;       // pilot_xds_push_time
  metrics::GaugeFamily& config_objects;      // cmesh_config_objects{kind}
  metrics::GaugeFamily& invalid_objects;     // cmesh_config_invalid_objects
  metrics::GaugeFamily& proxies;             // cmesh_xds_proxies
  metrics::GaugeFamily& groups;              // cmesh_xds_snapshot_groups
  // The Kubernetes source (only with --kubeconfig / --in-cluster).
  metrics::CounterFamily& k8s_events;        // cmesh_k8s_watch_events_total{kind}
  metrics::CounterFamily& k8s_changes;       // cmesh_k8s_changes_total{kind}
  metrics::CounterFamily& k8s_lists;         // cmesh_k8s_lists_total{kind,reason}
  metrics::CounterFamily& k8s_errors;        // cmesh_k8s_errors_total{kind}
  metrics::GaugeFamily& k8s_synced;          // cmesh_k8s_synced
  metrics::GaugeFamily& leader;              // cmesh_leader
  metrics::CounterFamily& status_writes;     // cmesh_status_writes_total{result}

  // Sets the per-kind object gauges from the current merged config.
  void SetConfig(const model::ConfigSet& config);
  // Counts the distinct objects with an error diagnostic (they were skipped).
  void SetDiagnostics(const std::vector<model::Diagnostic>& diagnostics);
  // Brings the k8s counters of `kind` up to the informer's cumulative `stats`.
  void SetInformerStats(const std::string& kind, const kube_source::InformerStats& stats);
  // The same for the status writes (written, unchanged, failed so far).
  void SetStatusWrites(std::uint64_t written, std::uint64_t unchanged, std::uint64_t failed);

 private:
  std::mutex mutex_;  // guards the last values below (the counters only go up by the difference)
  std::map<std::string, kube_source::InformerStats> informer_stats_;
  std::uint64_t written_ = 0, unchanged_ = 0, failed_ = 0;
};

// Forwards to the cache and counts, per type, the publications that changed that type's version:
// every such publication is pushed to each stream of the group.
class CountingPublisher final : public xds::SnapshotPublisher {
 public:
  CountingPublisher(xds::SnapshotCache& cache, PilotMetrics& metrics) : cache_(cache), metrics_(metrics) {}
  std::vector<std::string> SetSnapshot(const std::string& group_key, xds::SnapshotPtr snapshot) override;
  void ClearSnapshot(const std::string& group_key) override { cache_.ClearSnapshot(group_key); }

 private:
  xds::SnapshotCache& cache_;
  PilotMetrics& metrics_;
};

// NACKs logged with the client's message and counted per type; each ACK timed from the config
// change its version reflects (the pipeline dates it) to the ACK: the convergence time. The end
// of a stream releases its registration with the pipeline.
class MetricsCallbacks final : public xds::StreamCallbacks {
 public:
  MetricsCallbacks(PilotMetrics& metrics, pipeline::PushPipeline& pipeline) : metrics_(metrics), pipeline_(pipeline) {}
  void OnAck(const xds::StreamStatus& status, xds::ResourceType type, const std::string& version,
             xds::TimePoint at) override;
  void OnNack(const xds::StreamStatus& status, const xds::NackRecord& nack) override;
  void OnStreamClosed(const xds::StreamStatus& status, const std::string& group_key) override;
  // Which key a node's streams watch (the group-key function tells it here).
  void RememberGroup(const std::string& node_id, const std::string& group_key);

 private:
  PilotMetrics& metrics_;
  pipeline::PushPipeline& pipeline_;
  // A leaf lock: nothing is called while holding it. (OnAck runs inside the session's lock and
  // then takes the pipeline's, which never waits on a session.)
  std::mutex mutex_;
  std::map<std::string, std::string> group_of_node_;
};

}  // namespace cmesh::pilot
