// cmesh-proxy's Prometheus metrics (/stats/prometheus on 15090): Istio's standard request metrics
// with Istio's names and labels, the upstream counters, and the xDS client's state.
//
// Request metrics are recorded on the worker threads: each thread keeps its own map from a label
// set to the series (the family's lock is taken only the first time a thread sees a label set),
// and series updates are atomic, so the request path takes no lock.
#pragma once

#include <string>
#include <vector>

#include "cmesh/metrics/registry.h"
#include "cmesh/proxy_core/worker.h"
#include "cmesh/xds_client/xds_client.h"

namespace cmesh::proxy {

// Who this proxy is, for the source_* labels.
struct SourceIdentity {
  std::string workload;   // the app label (else "unknown")
  std::string namespace_name;
  std::string version;    // the version label, reported as destination_version of inbound requests
};

class ProxyMetrics {
 public:
  ProxyMetrics(metrics::Registry& registry, SourceIdentity source);

  // On a worker thread, after each request.
  void RecordRequest(const proxy_core::RequestRecord& record);
  // On a worker thread, when a TCP-proxied connection opens and when it closes.
  void RecordTcp(const proxy_core::TcpRecord& record, bool closed);
  // Before rendering: the worker counters and the xDS client's state.
  void Refresh(const std::vector<const proxy_core::WorkerCounters*>& workers, const xds_client::XdsClientStatus& xds);

 private:
  SourceIdentity source_;
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& duration_;
  metrics::HistogramFamily& request_bytes_;
  metrics::HistogramFamily& response_bytes_;
  metrics::CounterFamily& tcp_opened_;
  metrics::CounterFamily& tcp_closed_;
  metrics::CounterFamily& tcp_sent_;
  metrics::CounterFamily& tcp_received_;
  metrics::CounterFamily& downstream_connections_;
  metrics::GaugeFamily& downstream_active_;
  metrics::CounterFamily& upstream_retries_;
  metrics::CounterFamily& upstream_connect_failures_;
  metrics::CounterFamily& upstream_timeouts_;
  metrics::CounterFamily& overflow_;  // {kind}: pending, connection, retry
  metrics::CounterFamily& ejections_;
  metrics::CounterFamily& mirrored_;
  metrics::CounterFamily& stream_idle_timeouts_;
  metrics::GaugeFamily& xds_connected_;
  metrics::GaugeFamily& xds_version_;
  metrics::CounterFamily& xds_acks_;
  metrics::CounterFamily& xds_nacks_;
  metrics::CounterFamily& xds_reconnects_;
  // Totals already added to the counters above (Refresh adds what is new since).
  struct Seen {
    std::uint64_t accepted = 0, retries = 0, failures = 0, timeouts = 0, reconnects = 0;
    std::uint64_t pending_overflow = 0, cx_overflow = 0, retry_overflow = 0, ejections = 0, mirrored = 0,
                  stream_idle = 0;
    std::uint64_t acks[4] = {}, nacks[4] = {};
  } seen_;
};

}  // namespace cmesh::proxy
