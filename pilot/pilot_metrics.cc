#include "pilot_metrics.h"

#include <set>
#include <string>
#include <tuple>

#include "cmesh/metrics/buckets.h"
#include "cmesh/logging/logger.h"

namespace cmesh::pilot {

using logging::Log;
using logging::LogLevel;

namespace {

// Istio's label values: "cds", "eds", "lds", "rds".
std::string TypeLabel(xds::ResourceType type) {
  std::string label(xds::ShortName(type));
  for (char& c : label) c = static_cast<char>(c - 'A' + 'a');
  return label;
}

}  // namespace

PilotMetrics::PilotMetrics(metrics::Registry& registry)
    : connected(registry.AddGauge("pilot_xds", "Number of xDS streams connected to this control plane.").OrDie()),
      pushes(registry
                 .AddCounter("pilot_xds_pushes",
                             "Snapshots published to a proxy that changed a type's version, by type.",
                             {"type"})
                 .OrDie()),
      rejects(registry.AddCounter("pilot_total_xds_rejects", "xDS responses rejected (NACKed) by proxies, by type.",
                                  {"type"})
                  .OrDie()),
      convergence(registry
                      .AddHistogram("pilot_proxy_convergence_time",
                                    "Seconds from a config change to a proxy's ACK of the version reflecting it.",
                                    metrics::ConvergenceSecondsBuckets())
                      .OrDie()),
      push_time(registry
                    .AddHistogram("pilot_xds_push_time",
                                  "Seconds from the start of a push (after the debounce) until every changed "
                                  "snapshot was handed to its proxies' streams.",
                                  metrics::PushTimeSecondsBuckets())
                    .OrDie()),
      config_objects(
          registry.AddGauge("cmesh_config_objects", "Valid config objects currently loaded, by kind.", {"kind"})
              .OrDie()),
      invalid_objects(
          registry.AddGauge("cmesh_config_invalid_objects", "Config objects skipped because they are invalid.")
              .OrDie()),
      proxies(registry.AddGauge("cmesh_xds_proxies", "Distinct proxies (node identities) with an open xDS stream.")
                  .OrDie()),
      groups(registry
                 .AddGauge("cmesh_xds_snapshot_groups",
                           "Groups of proxies sharing one compiled snapshot (compilations per config change).")
                 .OrDie()),
      k8s_events(registry
                     .AddCounter("cmesh_k8s_watch_events_total",
                                 "Watch events received from the Kubernetes API (bookmarks included), by kind.",
                                 {"kind"})
                     .OrDie()),
      k8s_changes(registry
                      .AddCounter("cmesh_k8s_changes_total",
                                  "Objects that changed in a field the mesh reads (what reaches the push pipeline), by kind.",
                                  {"kind"})
                      .OrDie()),
      k8s_lists(registry
                    .AddCounter("cmesh_k8s_lists_total",
                                "Full lists of a kind: the first one (start) and those after a 410 Gone (expired).",
                                {"kind", "reason"})
                    .OrDie()),
      k8s_errors(registry.AddCounter("cmesh_k8s_errors_total", "Failed lists and watches (retried), by kind.", {"kind"})
                     .OrDie()),
      k8s_synced(registry.AddGauge("cmesh_k8s_synced", "1 once every Kubernetes cache has synced and been pushed.")
                     .OrDie()),
      leader(registry.AddGauge("cmesh_leader", "1 while this replica holds the leader Lease.").OrDie()),
      status_writes(registry
                        .AddCounter("cmesh_status_writes_total",
                                    "VirtualService/DestinationRule status reconciliations by the leader, by result "
                                    "(written, unchanged, failed).",
                                    {"result"})
                        .OrDie()) {
  for (xds::ResourceType type : xds::kPushOrder) {
    pushes.WithLabels({TypeLabel(type)});
    rejects.WithLabels({TypeLabel(type)});
  }
}

void PilotMetrics::SetInformerStats(const std::string& kind, const kube_source::InformerStats& stats) {
  std::lock_guard lock(mutex_);
  kube_source::InformerStats& last = informer_stats_[kind];
  k8s_events.WithLabels({kind}).Inc(stats.events - last.events);
  k8s_changes.WithLabels({kind}).Inc(stats.changes - last.changes);
  k8s_lists.WithLabels({kind, "start"}).Inc((stats.lists - stats.relists_after_gone) -
                                            (last.lists - last.relists_after_gone));
  k8s_lists.WithLabels({kind, "expired"}).Inc(stats.relists_after_gone - last.relists_after_gone);
  k8s_errors.WithLabels({kind}).Inc(stats.errors - last.errors);
  last = stats;
}

void PilotMetrics::SetStatusWrites(std::uint64_t written, std::uint64_t unchanged, std::uint64_t failed) {
  std::lock_guard lock(mutex_);
  status_writes.WithLabels({"written"}).Inc(written - written_);
  status_writes.WithLabels({"unchanged"}).Inc(unchanged - unchanged_);
  status_writes.WithLabels({"failed"}).Inc(failed - failed_);
  written_ = written;
  unchanged_ = unchanged;
  failed_ = failed;
}

void PilotMetrics::SetConfig(const model::ConfigSet& config) {
  config_objects.WithLabels({"VirtualService"}).Set(static_cast<double>(config.virtual_services.size()));
  config_objects.WithLabels({"DestinationRule"}).Set(static_cast<double>(config.destination_rules.size()));
  config_objects.WithLabels({"Service"}).Set(static_cast<double>(config.services.size()));
  config_objects.WithLabels({"Pod"}).Set(static_cast<double>(config.pods.size()));
  config_objects.WithLabels({"EndpointSlice"}).Set(static_cast<double>(config.endpoint_slices.size()));
  config_objects.WithLabels({"Endpoints"}).Set(static_cast<double>(config.endpoints.size()));
  config_objects.WithLabels({"Namespace"}).Set(static_cast<double>(config.namespaces.size()));
}

void PilotMetrics::SetDiagnostics(const std::vector<model::Diagnostic>& diagnostics) {
  std::set<std::tuple<std::string, std::string, std::string, std::string>> invalid;
  for (const auto& d : diagnostics) {
    if (d.severity != model::Severity::kError) continue;
    invalid.emplace(d.object.file, d.object.kind, d.object.ns, d.object.name);
  }
  invalid_objects.Get().Set(static_cast<double>(invalid.size()));
}

std::vector<std::string> CountingPublisher::SetSnapshot(const std::string& group_key, xds::SnapshotPtr snapshot) {
  xds::SnapshotPtr previous = cache_.GetSnapshot(group_key);
  xds::SnapshotPtr next = snapshot;
  auto errors = cache_.SetSnapshot(group_key, std::move(snapshot));
  if (errors.empty() && next != nullptr) {
    for (xds::ResourceType type : xds::kPushOrder) {
      if (previous == nullptr || previous->Version(type) != next->Version(type)) {
        metrics_.pushes.WithLabels({TypeLabel(type)}).Inc();
      }
    }
  }
  return errors;
}

void MetricsCallbacks::RememberGroup(const std::string& node_id, const std::string& group_key) {
  std::lock_guard lock(mutex_);
  group_of_node_[node_id] = group_key;
}

void MetricsCallbacks::OnAck(const xds::StreamStatus& status, xds::ResourceType type, const std::string& version,
                             xds::TimePoint at) {
  if (!status.node) return;
  std::string group;
  {
    std::lock_guard lock(mutex_);
    auto it = group_of_node_.find(status.node->id());
    if (it == group_of_node_.end()) return;
    group = it->second;
  }
  auto change_time = pipeline_.ChangeTimeFor(group, type, version);
  if (!change_time || at < *change_time) return;
  metrics_.convergence.Get().Observe(std::chrono::duration<double>(at - *change_time).count());
}

void MetricsCallbacks::OnStreamClosed(const xds::StreamStatus& status, const std::string& group_key) {
  // The proxy's last stream: forget it (its key is cleared, its group dropped when empty).
  if (!pipeline_.ReleaseProxy(group_key) || !status.node) return;
  std::lock_guard lock(mutex_);
  auto it = group_of_node_.find(status.node->id());
  if (it != group_of_node_.end() && it->second == group_key) group_of_node_.erase(it);
}

void MetricsCallbacks::OnNack(const xds::StreamStatus& status, const xds::NackRecord& nack) {
  metrics_.rejects.WithLabels({TypeLabel(nack.type)}).Inc();
  Log(LogLevel::kWarn, "NACK from " + (status.node ? status.node->id() : std::string("?")) + " for " +
                           std::string(xds::ShortName(nack.type)) + " version " + nack.rejected_version + ": " +
                           nack.message);
}

}  // namespace cmesh::pilot
