#include "cmesh/upstream/cluster_info.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits>
#include <optional>

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace cmesh::upstream {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::core::v3::HealthStatus;
using envoy::config::endpoint::v3::ClusterLoadAssignment;

// Milliseconds, rounded up so that a positive duration never becomes 0 (0 means "none" for
// the idle timeout). nullopt for a negative or out-of-range duration.
std::optional<std::chrono::milliseconds> ToMillis(const google::protobuf::Duration& d) {
  if (d.seconds() < 0 || d.nanos() < 0 || d.nanos() > 999'999'999) return std::nullopt;
  if (d.seconds() > std::numeric_limits<std::int64_t>::max() / 1000 - 1) return std::nullopt;
  return std::chrono::milliseconds(d.seconds() * 1000 + (d.nanos() + 999'999) / 1'000'000);
}

bool IsIpLiteral(const std::string& text) {
  in6_addr scratch;
  return ::inet_pton(AF_INET, text.c_str(), &scratch) == 1 || ::inet_pton(AF_INET6, text.c_str(), &scratch) == 1;
}

bool Excluded(HealthStatus status) {
  // Envoy routes to UNKNOWN, HEALTHY and DEGRADED hosts; TIMEOUT counts as unhealthy there too.
  return status == envoy::config::core::v3::UNHEALTHY || status == envoy::config::core::v3::DRAINING ||
         status == envoy::config::core::v3::TIMEOUT;
}

struct Builder {
  const Cluster& cluster;
  ClusterInfo& info;
  std::string* error;

  bool Fail(const std::string& what) {
    *error = "cluster \"" + cluster.name() + "\": " + what;
    return false;
  }

  bool Type() {
    if (cluster.has_cluster_type()) {
      return Fail("custom cluster_type \"" + cluster.cluster_type().name() + "\" is not supported");
    }
    switch (cluster.type()) {
      case Cluster::STATIC: info.type = DiscoveryType::kStatic; return true;
      case Cluster::EDS:
        info.type = DiscoveryType::kEds;
        info.eds_service_name = cluster.eds_cluster_config().service_name().empty()
                                    ? cluster.name()
                                    : cluster.eds_cluster_config().service_name();
        return true;
      case Cluster::ORIGINAL_DST: info.type = DiscoveryType::kOriginalDst; return true;
      case Cluster::STRICT_DNS: info.type = DiscoveryType::kStrictDns; return true;
      case Cluster::LOGICAL_DNS: info.type = DiscoveryType::kLogicalDns; return true;
      default: return Fail("unknown discovery type " + std::to_string(cluster.type()));
    }
  }

  bool Policy() {
    if (cluster.has_load_balancing_policy()) {
      return Fail("load_balancing_policy (typed load balancer extensions) is not supported");
    }
    const std::string policy = Cluster::LbPolicy_Name(cluster.lb_policy());
    if (info.type == DiscoveryType::kOriginalDst) {
      // As Envoy: an original-destination cluster picks by the destination, nothing else.
      if (cluster.lb_policy() != Cluster::CLUSTER_PROVIDED) {
        return Fail("lb_policy " + policy + " is not valid for an ORIGINAL_DST cluster (only CLUSTER_PROVIDED)");
      }
      info.lb_policy = LbPolicy::kClusterProvided;
      return true;
    }
    switch (cluster.lb_policy()) {
      case Cluster::ROUND_ROBIN: info.lb_policy = LbPolicy::kRoundRobin; return true;
      case Cluster::RANDOM: info.lb_policy = LbPolicy::kRandom; return true;
      case Cluster::LEAST_REQUEST:
        info.lb_policy = LbPolicy::kLeastRequest;
        if (cluster.has_least_request_lb_config() && cluster.least_request_lb_config().has_choice_count()) {
          info.choice_count = cluster.least_request_lb_config().choice_count().value();
          if (info.choice_count < 2) {
            return Fail("least_request_lb_config.choice_count must be at least 2, got " +
                        std::to_string(info.choice_count));
          }
        }
        return true;
      case Cluster::RING_HASH:
      case Cluster::MAGLEV:
        // Both are consistent hashing: a request's hash key keeps choosing the same endpoint
        // while the endpoints stay. Maglev's table is served by the ring (same guarantee).
        info.lb_policy = LbPolicy::kRingHash;
        if (cluster.has_ring_hash_lb_config()) {
          const auto& rh = cluster.ring_hash_lb_config();
          if (rh.has_minimum_ring_size()) ring_min = rh.minimum_ring_size().value();
          if (rh.has_maximum_ring_size()) ring_max = rh.maximum_ring_size().value();
          if (ring_min > ring_max) return Fail("ring_hash_lb_config: minimum_ring_size above maximum_ring_size");
        }
        if (cluster.has_maglev_lb_config() && cluster.maglev_lb_config().has_table_size()) {
          ring_min = std::max<std::uint64_t>(ring_min, cluster.maglev_lb_config().table_size().value());
        }
        return true;
      default:
        return Fail("lb_policy " + (policy.empty() ? std::to_string(cluster.lb_policy()) : policy) +
                    " is not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH and MAGLEV are)");
    }
  }

  // Where connections leave from (upstream_bind_config) and which service the cluster is.
  bool Identity() {
    if (cluster.has_upstream_bind_config()) {
      const auto& bind = cluster.upstream_bind_config();
      if (!bind.has_source_address() || bind.source_address().address().empty()) {
        return Fail("upstream_bind_config needs a source_address with an address");
      }
      if (bind.source_address().port_value() != 0) return Fail("upstream_bind_config with a fixed port is not supported");
      info.source_addresses.push_back(bind.source_address().address());
      for (const auto& extra : bind.extra_source_addresses()) {
        if (!extra.has_address() || extra.address().address().empty() || extra.address().port_value() != 0) {
          return Fail("upstream_bind_config extra_source_addresses need an address and no port");
        }
        info.source_addresses.push_back(extra.address().address());
      }
    }
    if (auto istio = cluster.metadata().filter_metadata().find("istio"); istio != cluster.metadata().filter_metadata().end()) {
      if (auto services = istio->second.fields().find("services");
          services != istio->second.fields().end() && services->second.list_value().values_size() > 0) {
        const auto& first = services->second.list_value().values(0).struct_value().fields();
        if (auto host = first.find("host"); host != first.end()) info.service_host = host->second.string_value();
      }
    }
    return true;
  }

  bool Timeouts() {
    if (cluster.has_connect_timeout()) {
      auto ms = ToMillis(cluster.connect_timeout());
      if (!ms || ms->count() == 0) return Fail("connect_timeout must be positive");
      info.connect_timeout = *ms;
    }
    // Precedence as Envoy: the typed HttpProtocolOptions, else the deprecated cluster fields.
    const envoy::config::core::v3::HttpProtocolOptions* common = nullptr;
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions typed;
    for (const auto& [key, any] : cluster.typed_extension_protocol_options()) {
      if (key != kHttpProtocolOptionsKey && !any.Is<envoy::extensions::upstreams::http::v3::HttpProtocolOptions>()) {
        continue;  // options for other upstream protocols do not concern the HTTP pools
      }
      if (!any.UnpackTo(&typed)) return Fail(std::string(kHttpProtocolOptionsKey) + " does not unpack");
      if (typed.has_common_http_protocol_options()) common = &typed.common_http_protocol_options();
      if (typed.has_explicit_http_config() && typed.explicit_http_config().has_http2_protocol_options()) {
        info.upstream_protocol = ClusterInfo::UpstreamProtocol::kHttp2;
      } else if (typed.has_use_downstream_protocol_config()) {
        info.upstream_protocol = ClusterInfo::UpstreamProtocol::kDownstream;
      }
    }
    // The deprecated Cluster fields are still read: older control planes send them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (common == nullptr && cluster.has_common_http_protocol_options()) common = &cluster.common_http_protocol_options();
    if (cluster.has_http2_protocol_options()) info.upstream_protocol = ClusterInfo::UpstreamProtocol::kHttp2;
    if (cluster.has_max_requests_per_connection()) {
      info.max_requests_per_connection = cluster.max_requests_per_connection().value();
    }
#pragma GCC diagnostic pop
    if (common != nullptr) {
      if (common->has_max_requests_per_connection()) {
        info.max_requests_per_connection = common->max_requests_per_connection().value();
      }
      if (common->has_idle_timeout()) {
        auto ms = ToMillis(common->idle_timeout());
        if (!ms) return Fail("common_http_protocol_options.idle_timeout must not be negative");
        info.idle_timeout = *ms;
      }
    }
    return true;
  }

  bool Resilience() {
    std::string what;
    if (!ParseCircuitBreakers(cluster, &info.thresholds, &what) || !ParseOutlierDetection(cluster, &info.outlier, &what)) {
      return Fail(what);
    }
    if (cluster.has_common_lb_config() && cluster.common_lb_config().has_healthy_panic_threshold()) {
      const double value = cluster.common_lb_config().healthy_panic_threshold().value();
      if (!(value >= 0.0 && value <= 100.0)) return Fail("common_lb_config.healthy_panic_threshold must be within [0, 100]");
      info.healthy_panic_threshold = static_cast<std::uint32_t>(value);
    }
    return true;
  }

  bool Endpoints(const ClusterLoadAssignment* cla) {
    if (info.type == DiscoveryType::kOriginalDst) return true;
    if (info.type != DiscoveryType::kEds) cla = cluster.has_load_assignment() ? &cluster.load_assignment() : nullptr;
    if (cla == nullptr) return true;  // EDS not arrived yet: empty, requests get 503
    const bool dns = info.type == DiscoveryType::kStrictDns || info.type == DiscoveryType::kLogicalDns;
    if (info.type == DiscoveryType::kLogicalDns &&
        (cla->endpoints_size() != 1 || cla->endpoints(0).lb_endpoints_size() != 1)) {
      return Fail("a LOGICAL_DNS cluster needs exactly one endpoint (as in Envoy)");
    }
    // Envoy sends traffic to the highest priority (lowest number) with healthy hosts and fails
    // over lower ones only when it has none; the gradual overprovisioning spill is not done.
    std::optional<std::uint32_t> best;
    for (const auto& locality : cla->endpoints()) {
      for (const auto& lb : locality.lb_endpoints()) {
        if (!Excluded(lb.health_status()) && (!best || locality.priority() < *best)) best = locality.priority();
      }
    }
    std::uint32_t first_weight = 0;
    for (const auto& locality : cla->endpoints()) {
      for (const auto& lb : locality.lb_endpoints()) {
        if (lb.has_endpoint_name()) return Fail("named endpoints (endpoint_name) are not supported");
        const auto& address = lb.endpoint().address();
        if (!address.has_socket_address()) return Fail("an endpoint without a socket address (pipe or internal)");
        const auto& socket = address.socket_address();
        if (socket.protocol() != envoy::config::core::v3::SocketAddress::TCP) return Fail("a UDP endpoint");
        if (!socket.resolver_name().empty() || socket.has_named_port()) {
          return Fail("endpoint " + socket.address() + ": resolver_name and named_port are not supported");
        }
        if (!IsIpLiteral(socket.address())) {
          return Fail(dns ? "endpoint \"" + socket.address() + "\" needs DNS resolution, not supported yet (" +
                                Cluster::DiscoveryType_Name(cluster.type()) + " works with IP literals only)"
                          : "endpoint address \"" + socket.address() + "\" is not an IP literal");
        }
        if (socket.port_value() == 0 || socket.port_value() > 65535) {
          return Fail("endpoint " + socket.address() + ": port " + std::to_string(socket.port_value()) +
                      " is out of range");
        }
        const std::uint32_t weight = lb.has_load_balancing_weight() ? lb.load_balancing_weight().value() : 1;
        if (weight == 0) return Fail("endpoint " + socket.address() + ": load_balancing_weight must be at least 1");
        if (Excluded(lb.health_status()) || locality.priority() != *best) {
          ++info.excluded_hosts;
          continue;
        }
        info.hosts.push_back(Host{{socket.address(), static_cast<std::uint16_t>(socket.port_value())}, weight});
        if (first_weight == 0) first_weight = weight;
        if (weight != first_weight) info.equal_weights = false;
        info.total_weight += weight;
      }
    }
    if (!info.equal_weights) {
      info.cumulative_weights.reserve(info.hosts.size());
      std::uint64_t sum = 0;
      for (const Host& host : info.hosts) info.cumulative_weights.push_back(sum += host.weight);
    }
    if (info.lb_policy == LbPolicy::kRingHash) BuildRing();
    return true;
  }

  // Envoy's sizing: at least ring_min points (1024 by default), at most ring_max (8M), each host
  // weight/total of them, at least one each.
  void BuildRing() {
    if (info.hosts.empty()) return;
    const std::uint64_t target = std::clamp<std::uint64_t>(std::max<std::uint64_t>(ring_min, info.hosts.size()),
                                                           info.hosts.size(), ring_max);
    for (std::uint32_t h = 0; h < info.hosts.size(); ++h) {
      const std::uint64_t points =
          std::max<std::uint64_t>(1, target * info.hosts[h].weight / std::max<std::uint64_t>(1, info.total_weight));
      const std::string base = info.hosts[h].address.ToString() + "_";
      for (std::uint64_t i = 0; i < points; ++i) info.ring.push_back({HashKey(base + std::to_string(i)), h});
    }
    std::sort(info.ring.begin(), info.ring.end(),
              [](const ClusterInfo::RingPoint& a, const ClusterInfo::RingPoint& b) { return a.hash < b.hash; });
  }

  std::uint64_t ring_min = 1024;
  std::uint64_t ring_max = 8 * 1024 * 1024;
};

}  // namespace

std::uint64_t HashKey(std::string_view key) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  // splitmix64's finaliser spreads FNV's weak low bits over the whole word.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

std::string SourceAddressFor(const std::vector<std::string>& sources, const event::Endpoint& destination) {
  const bool v6 = destination.address.find(':') != std::string::npos;
  for (const std::string& source : sources) {
    if ((source.find(':') != std::string::npos) == v6) return source;
  }
  return "";
}

std::shared_ptr<const ClusterInfo> BuildCluster(const Cluster& cluster, const ClusterLoadAssignment* cla,
                                                std::string* error) {
  auto info = std::make_shared<ClusterInfo>();
  if (cluster.name().empty()) {
    *error = "a cluster without a name";
    return nullptr;
  }
  info->name = cluster.name();
  Builder builder{cluster, *info, error};
  if (!builder.Type() || !builder.Policy() || !builder.Identity() || !builder.Timeouts() || !builder.Resilience() ||
      !builder.Endpoints(cla)) return nullptr;
  return info;
}

}  // namespace cmesh::upstream
