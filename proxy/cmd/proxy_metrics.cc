#include "proxy_metrics.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "cmesh/metrics/buckets.h"

namespace cmesh::proxy {
namespace {

const std::vector<double>& ByteBuckets() {
  static const std::vector<double> buckets = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
  return buckets;
}

// outbound|PORT|SUBSET|FQDN → the destination labels Istio's sidecar reports.
struct Destination {
  std::string service = "unknown";  // FQDN
  std::string service_name = "unknown";
  std::string service_namespace = "unknown";
  std::string version = "unknown";
};

Destination DestinationOf(const std::string& cluster) {
  Destination d;
  if (cluster.rfind("outbound|", 0) != 0) return d;
  const std::size_t a = cluster.find('|', 9);
  const std::size_t b = a == std::string::npos ? a : cluster.find('|', a + 1);
  if (b == std::string::npos) return d;
  const std::string subset = cluster.substr(a + 1, b - a - 1);
  d.service = cluster.substr(b + 1);
  const std::size_t dot = d.service.find('.');
  d.service_name = d.service.substr(0, dot);
  if (dot != std::string::npos) {
    const std::size_t dot2 = d.service.find('.', dot + 1);
    d.service_namespace = d.service.substr(dot + 1, dot2 == std::string::npos ? std::string::npos : dot2 - dot - 1);
  }
  // Istio reads the version from the destination's labels through metadata exchange; without
  // it, the subset name (by convention the version label's value) is what the route chose.
  if (!subset.empty()) d.version = subset;
  return d;
}

// An inbound request's destination service: Istio takes it from the caller's metadata (not
// exchanged here) or the request's authority; the authority's host is what cmesh knows.
Destination InboundDestinationOf(const std::string& authority, const std::string& own_namespace) {
  Destination d;
  std::string_view host = authority;
  if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos && host.back() != ']') {
    host = host.substr(0, colon);
  }
  if (host.empty()) return d;
  d.service = std::string(host);
  const std::size_t dot = host.find('.');
  d.service_name = std::string(host.substr(0, dot));
  if (dot != std::string_view::npos) {
    const std::size_t dot2 = host.find('.', dot + 1);
    d.service_namespace = std::string(host.substr(dot + 1, dot2 == std::string_view::npos ? dot2 : dot2 - dot - 1));
  } else {
    d.service_namespace = own_namespace;
  }
  return d;
}

}  // namespace

ProxyMetrics::ProxyMetrics(metrics::Registry& registry, SourceIdentity source)
    : source_(std::move(source)),
      requests_(registry
                    .AddCounter("istio_requests_total", "Requests the sidecar proxied or answered, by outcome.",
                                {"reporter", "source_workload", "source_workload_namespace", "destination_service",
                                 "destination_service_name", "destination_service_namespace", "destination_version",
                                 "destination_workload", "destination_workload_namespace", "request_protocol",
                                 "response_code", "grpc_response_status", "response_flags"})
                    .OrDie()),
      duration_(registry
                    .AddHistogram("istio_request_duration_milliseconds", "Request duration, in milliseconds.",
                                  metrics::RequestDurationMillisecondsBuckets(),
                                  {"reporter", "destination_service", "destination_version", "response_code"})
                    .OrDie()),
      request_bytes_(registry
                         .AddHistogram("istio_request_bytes", "Request body sizes, in bytes.", ByteBuckets(),
                                       {"reporter", "destination_service", "destination_version", "response_code"})
                         .OrDie()),
      response_bytes_(registry
                          .AddHistogram("istio_response_bytes", "Response body sizes, in bytes.", ByteBuckets(),
                                        {"reporter", "destination_service", "destination_version", "response_code"})
                          .OrDie()),
      tcp_opened_(registry
                      .AddCounter("istio_tcp_connections_opened_total", "TCP connections the sidecar proxied, opened.",
                                  {"reporter", "source_workload", "source_workload_namespace", "destination_service",
                                   "destination_workload", "destination_workload_namespace", "response_flags"})
                      .OrDie()),
      tcp_closed_(registry
                      .AddCounter("istio_tcp_connections_closed_total", "TCP connections the sidecar proxied, closed.",
                                  {"reporter", "source_workload", "source_workload_namespace", "destination_service",
                                   "destination_workload", "destination_workload_namespace", "response_flags"})
                      .OrDie()),
      tcp_sent_(registry
                    .AddCounter("istio_tcp_sent_bytes_total", "Bytes sent to the client on proxied TCP connections.",
                                {"reporter", "source_workload", "source_workload_namespace", "destination_service",
                                 "destination_workload", "destination_workload_namespace", "response_flags"})
                    .OrDie()),
      tcp_received_(registry
                        .AddCounter("istio_tcp_received_bytes_total",
                                    "Bytes received from the client on proxied TCP connections.",
                                    {"reporter", "source_workload", "source_workload_namespace", "destination_service",
                                     "destination_workload", "destination_workload_namespace", "response_flags"})
                        .OrDie()),
      downstream_connections_(
          registry.AddCounter("cmesh_proxy_downstream_connections_total", "Client connections accepted.").OrDie()),
      downstream_active_(
          registry.AddGauge("cmesh_proxy_downstream_connections_active", "Client connections open now.").OrDie()),
      upstream_retries_(
          registry.AddCounter("cmesh_proxy_upstream_retries_total", "Retries of requests (each retry counted).")
              .OrDie()),
      upstream_connect_failures_(registry
                                     .AddCounter("cmesh_proxy_upstream_connect_failures_total",
                                                 "Upstream connections that failed or timed out while connecting.")
                                     .OrDie()),
      upstream_timeouts_(
          registry.AddCounter("cmesh_proxy_upstream_timeouts_total", "Route and per-try timeouts that fired.")
              .OrDie()),
      overflow_(registry
                    .AddCounter("cmesh_proxy_upstream_overflow_total",
                                "Circuit breakers that tripped (Envoy's upstream_rq_pending_overflow, "
                                "upstream_cx_overflow, upstream_rq_retry_overflow), by kind.",
                                {"kind"})
                    .OrDie()),
      ejections_(registry
                     .AddCounter("cmesh_proxy_outlier_detection_ejections_total",
                                 "Endpoints ejected by outlier detection (enforced ejections).")
                     .OrDie()),
      mirrored_(registry.AddCounter("cmesh_proxy_upstream_requests_mirrored_total", "Mirror copies of requests sent.")
                    .OrDie()),
      stream_idle_timeouts_(registry
                                .AddCounter("cmesh_proxy_stream_idle_timeouts_total",
                                            "Requests ended by the route's idle timeout (408 SI, or reset).")
                                .OrDie()),
      xds_connected_(registry
                         .AddGauge("cmesh_proxy_xds_connected",
                                   "1 while an ADS stream to the control plane is open and answered.")
                         .OrDie()),
      xds_version_(registry
                       .AddGauge("cmesh_proxy_xds_version",
                                 "Hash of the version ACKed per type (as Envoy's version stats), 0 before any.",
                                 {"type"})
                       .OrDie()),
      xds_acks_(registry.AddCounter("cmesh_proxy_xds_acks_total", "xDS responses accepted, by type.", {"type"})
                    .OrDie()),
      xds_nacks_(
          registry.AddCounter("cmesh_proxy_xds_nacks_total", "xDS responses rejected (NACKed), by type.", {"type"})
              .OrDie()),
      xds_reconnects_(
          registry.AddCounter("cmesh_proxy_xds_reconnects_total", "ADS streams reopened after one ended.").OrDie()) {}

void ProxyMetrics::RecordRequest(const proxy_core::RequestRecord& record) {
  struct Series {
    metrics::Counter* requests;
    metrics::Histogram* duration;
    metrics::Histogram* request_bytes;
    metrics::Histogram* response_bytes;
  };
  // Per thread: the label sets this worker has seen, so WithLabels (locked) runs once per set.
  thread_local std::unordered_map<std::string, Series> cache;
  std::string key = record.cluster;
  if (record.inbound) {
    key += "\ninbound\n";
    key += record.destination_service.empty() ? record.authority : record.destination_service;
  }
  key += '\n';
  key += std::to_string(record.status);
  key += '\n';
  key += record.flags;
  key += '\n';
  key += std::to_string(record.grpc_status);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const std::string code = std::to_string(record.status);
    // Istio: request_protocol "grpc" for gRPC calls, whose grpc_response_status is the call's
    // status (empty for other requests).
    const bool grpc = record.grpc_status >= 0;
    const std::string protocol = grpc ? "grpc" : "http";
    const std::string grpc_code = grpc ? std::to_string(record.grpc_status) : "";
    Series series;
    if (record.inbound) {
      // Reported by the server's sidecar: this workload is the destination; the caller is not
      // known without Istio's metadata exchange.
      // The inbound cluster names its service (Istio's cluster metadata); else the request's host.
      Destination d = InboundDestinationOf(
          record.destination_service.empty() ? record.authority : record.destination_service, source_.namespace_name);
      d.version = source_.version.empty() ? "unknown" : source_.version;
      series.requests = &requests_.WithLabels({"destination", "unknown", "unknown", d.service, d.service_name,
                                               d.service_namespace, d.version, source_.workload,
                                               source_.namespace_name, protocol, code, grpc_code, record.flags});
      series.duration = &duration_.WithLabels({"destination", d.service, d.version, code});
      series.request_bytes = &request_bytes_.WithLabels({"destination", d.service, d.version, code});
      series.response_bytes = &response_bytes_.WithLabels({"destination", d.service, d.version, code});
    } else {
      const Destination d = DestinationOf(record.cluster);
      series.requests = &requests_.WithLabels({"source", source_.workload, source_.namespace_name, d.service,
                                               d.service_name, d.service_namespace, d.version, "unknown",
                                               d.service_namespace, protocol, code, grpc_code, record.flags});
      series.duration = &duration_.WithLabels({"source", d.service, d.version, code});
      series.request_bytes = &request_bytes_.WithLabels({"source", d.service, d.version, code});
      series.response_bytes = &response_bytes_.WithLabels({"source", d.service, d.version, code});
    }
    it = cache.emplace(std::move(key), series).first;
  }
  it->second.requests->Inc();
  it->second.duration->Observe(static_cast<double>(record.duration.count()) / 1000.0);
  it->second.request_bytes->Observe(static_cast<double>(record.bytes_received));
  it->second.response_bytes->Observe(static_cast<double>(record.bytes_sent));
}

void ProxyMetrics::RecordTcp(const proxy_core::TcpRecord& record, bool closed) {
  // Opening has no outcome yet: its flags label is "-" (Envoy's stats at open time).
  const std::string flags = closed ? record.flags : std::string("-");
  std::vector<std::string> labels;
  if (record.inbound) {
    labels = {"destination", "unknown", "unknown", "unknown", source_.workload, source_.namespace_name, flags};
  } else {
    const Destination d = DestinationOf(record.cluster);
    labels = {"source", source_.workload, source_.namespace_name, d.service, "unknown", d.service_namespace, flags};
  }
  struct Series {
    metrics::Counter* opened;
    metrics::Counter* closed;
    metrics::Counter* sent;
    metrics::Counter* received;
  };
  // Per thread, as for requests: the family's lock only the first time a label set is seen.
  thread_local std::unordered_map<std::string, Series> cache;
  std::string key;
  for (const auto& l : labels) {
    key.append(l);
    key.push_back('\n');
  }
  auto it = cache.find(key);
  if (it == cache.end()) {
    Series series{&tcp_opened_.WithLabels(labels), &tcp_closed_.WithLabels(labels), &tcp_sent_.WithLabels(labels),
                  &tcp_received_.WithLabels(labels)};
    it = cache.emplace(std::move(key), series).first;
  }
  if (!closed) {
    it->second.opened->Inc();
    return;
  }
  it->second.closed->Inc();
  if (record.bytes_sent) it->second.sent->Inc(record.bytes_sent);
  if (record.bytes_received) it->second.received->Inc(record.bytes_received);
}

void ProxyMetrics::Refresh(const std::vector<const proxy_core::WorkerCounters*>& workers,
                           const xds_client::XdsClientStatus& xds) {
  std::uint64_t accepted = 0, retries = 0, failures = 0, timeouts = 0;
  std::uint64_t pending_overflow = 0, cx_overflow = 0, retry_overflow = 0, ejections = 0, mirrored = 0, stream_idle = 0;
  double active = 0;
  for (const auto* w : workers) {
    accepted += w->downstream_connections.load(std::memory_order_relaxed);
    active += static_cast<double>(w->active_connections.load(std::memory_order_relaxed));
    retries += w->retries.load(std::memory_order_relaxed);
    failures += w->upstream_connect_failures.load(std::memory_order_relaxed);
    timeouts += w->upstream_timeouts.load(std::memory_order_relaxed);
    pending_overflow += w->upstream_rq_pending_overflow.load(std::memory_order_relaxed);
    cx_overflow += w->upstream_cx_overflow.load(std::memory_order_relaxed);
    retry_overflow += w->upstream_rq_retry_overflow.load(std::memory_order_relaxed);
    ejections += w->outlier_detection_ejections_enforced.load(std::memory_order_relaxed);
    mirrored += w->upstream_rq_mirrored.load(std::memory_order_relaxed);
    stream_idle += w->stream_idle_timeouts.load(std::memory_order_relaxed);
  }
  // The worker and client totals only grow: add what is new since the last scrape.
  auto add = [](metrics::Counter& counter, std::uint64_t now, std::uint64_t& seen) {
    if (now > seen) counter.Inc(now - seen);
    seen = std::max(seen, now);
  };
  add(downstream_connections_.Get(), accepted, seen_.accepted);
  add(upstream_retries_.Get(), retries, seen_.retries);
  add(upstream_connect_failures_.Get(), failures, seen_.failures);
  add(upstream_timeouts_.Get(), timeouts, seen_.timeouts);
  add(overflow_.WithLabels({"pending"}), pending_overflow, seen_.pending_overflow);
  add(overflow_.WithLabels({"connection"}), cx_overflow, seen_.cx_overflow);
  add(overflow_.WithLabels({"retry"}), retry_overflow, seen_.retry_overflow);
  add(ejections_.Get(), ejections, seen_.ejections);
  add(mirrored_.Get(), mirrored, seen_.mirrored);
  add(stream_idle_timeouts_.Get(), stream_idle, seen_.stream_idle);
  add(xds_reconnects_.Get(), xds.reconnects, seen_.reconnects);
  downstream_active_.Get().Set(active);
  xds_connected_.Get().Set(xds.connected ? 1 : 0);
  for (xds_client::XdsType type : xds_client::kXdsTypes) {
    const std::string name(xds_client::ShortName(type));
    const auto& t = xds.type(type);
    const std::size_t i = xds_client::Index(type);
    add(xds_acks_.WithLabels({name}), t.acks, seen_.acks[i]);
    add(xds_nacks_.WithLabels({name}), t.nacks, seen_.nacks[i]);
    // FNV-1a folded to 53 bits, so the value survives the double Prometheus stores.
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : t.version) hash = (hash ^ c) * 1099511628211ull;
    xds_version_.WithLabels({name}).Set(t.version.empty() ? 0 : static_cast<double>(hash & ((1ull << 53) - 1)));
  }
}

}  // namespace cmesh::proxy
