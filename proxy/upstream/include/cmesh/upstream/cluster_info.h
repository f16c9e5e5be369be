// A cluster as the workers see it: built once per CDS/EDS update from the Envoy v3 Cluster and
// its ClusterLoadAssignment, then immutable and shared by every worker through the config
// snapshot (std::shared_ptr<const ClusterInfo>). Per-worker state (balancer cursors, active
// request counts, connection pools) lives elsewhere, so nothing here needs a lock.
//
// Memory grows with the endpoints and nothing else: no per-cluster threads or timers, one name
// string, IPv4 literals fit std::string's inline buffer, and the weighted-pick tables are
// only built when the weights differ.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/event/socket.h"
#include "cmesh/upstream/resilience_config.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace cmesh::upstream {

enum class DiscoveryType {
  kStatic,       // endpoints inline in Cluster.load_assignment
  kEds,          // endpoints from the ClusterLoadAssignment named eds_service_name
  kOriginalDst,  // no endpoints: the connection goes where the client dialled (SO_ORIGINAL_DST)
  kStrictDns,    // accepted only when every address is an IP literal (no resolver yet)
  kLogicalDns,   // same
};

enum class LbPolicy {
  kRoundRobin,
  kLeastRequest,     // power of N choices (N = choice_count, 2 by default)
  kRandom,
  kClusterProvided,  // ORIGINAL_DST only: the destination is the pick
  kRingHash,         // RING_HASH, and MAGLEV (served by the same consistent-hash ring)
};

// 64-bit hash of the ring's points and of the requests' hash keys (FNV-1a with a final mix).
// cmesh's own, not Envoy's xxHash: every cmesh-proxy hashes the same way, which is what
// consistent hashing across the mesh needs.
std::uint64_t HashKey(std::string_view key);

// One endpoint a request can go to (unhealthy and draining ones are left out at build time).
struct Host {
  event::Endpoint address;  // IP literal and port
  std::uint32_t weight = 1;  // load_balancing_weight, >= 1
};

struct ClusterInfo {
  std::string name;
  DiscoveryType type = DiscoveryType::kEds;
  std::string eds_service_name;  // EDS only: the ClusterLoadAssignment to ask for
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  std::uint32_t choice_count = 2;  // LEAST_REQUEST only

  // Envoy's defaults: 5 s connect timeout; upstream idle timeout 1 h (0 = none). The pools cap
  // the idle timeout lower (see connection_pool.h), so this is the upper bound the config allows.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{std::chrono::hours(1)};
  std::uint32_t max_requests_per_connection = 0;  // 0 = unlimited
  // upstream_bind_config: the local addresses connections bind before connecting, source_address
  // then extra_source_addresses; a connection uses the first of its destination's family (Istio's
  // InboundPassthroughCluster binds 127.0.0.6 and ::6, which cmesh-init's rules let through
  // instead of redirecting back to the proxy). None of the family: the kernel picks.
  std::vector<std::string> source_addresses;
  // The service an inbound cluster delivers to (metadata istio.services[0].host, as Istio's
  // inbound clusters carry it); empty when not said.
  std::string service_host;

  // The protocol requests go upstream with (HttpProtocolOptions): explicit_http_config's
  // http2_protocol_options (Istio's http2/grpc ports) asks for HTTP/2 with prior knowledge,
  // use_downstream_protocol_config for the client's own protocol; anything else HTTP/1.1.
  enum class UpstreamProtocol { kHttp1, kHttp2, kDownstream };
  UpstreamProtocol upstream_protocol = UpstreamProtocol::kHttp1;

  std::vector<Host> hosts;
  std::uint32_t excluded_hosts = 0;  // UNHEALTHY/DRAINING/TIMEOUT ones, and those of priorities not in use

  // For weighted picks: true when every weight is the same (then picks ignore the tables).
  bool equal_weights = true;
  std::uint64_t total_weight = 0;
  std::vector<std::uint64_t> cumulative_weights;  // empty when equal_weights

  // kRingHash: points sorted by hash, each naming a host index; a request's hash picks the first
  // point at or after it (wrapping). Each host gets points in proportion to its weight.
  struct RingPoint {
    std::uint64_t hash;
    std::uint32_t host;
  };
  std::vector<RingPoint> ring;

  // Circuit breakers (DEFAULT priority) and outlier detection (unset: none), see
  // resilience_config.h; their counters and ejections live in the shared ClusterRuntime.
  CircuitBreakerThresholds thresholds;
  std::optional<OutlierDetectionConfig> outlier;
  // common_lb_config.healthy_panic_threshold (Envoy's default 50 %): below this share of
  // endpoints not ejected, the balancer ignores the ejections (0 disables the panic mode).
  std::uint32_t healthy_panic_threshold = 50;

  bool empty() const { return hosts.empty(); }
};

// The address a connection to `destination` binds: the first of `sources` (a cluster's
// source_addresses) of the destination's family, "" = any.
std::string SourceAddressFor(const std::vector<std::string>& sources, const event::Endpoint& destination);

// The key under which Envoy (and cmesh-pilot) put HttpProtocolOptions in a cluster's
// typed_extension_protocol_options.
inline constexpr const char* kHttpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

// Builds the cluster, or returns nullptr with *error naming the cluster and what is wrong (the
// xDS client NACKs with it; a policy we do not implement is an error rather than a silent
// round robin). `cla` is the EDS assignment for an EDS cluster (nullptr: none yet, the cluster
// is empty and answers 503); STATIC and DNS clusters use their inline load_assignment.
std::shared_ptr<const ClusterInfo> BuildCluster(const envoy::config::cluster::v3::Cluster& cluster,
                                                const envoy::config::endpoint::v3::ClusterLoadAssignment* cla,
                                                std::string* error);

}  // namespace cmesh::upstream
