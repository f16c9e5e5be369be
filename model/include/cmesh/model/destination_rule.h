// networking.istio.io DestinationRule (v1alpha3, v1beta1 and v1 share this spec).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/model/common.h"

namespace cmesh::model {

struct ConsistentHashLB {
  enum class Kind { kHttpHeaderName, kHttpCookie, kUseSourceIp, kHttpQueryParameterName };
  struct Cookie {
    std::string name;
    std::string path;
    std::optional<Duration> ttl;
  };
  Kind kind = Kind::kHttpHeaderName;
  std::string header_name;  // kHttpHeaderName
  Cookie cookie;            // kHttpCookie
  std::string query_param;  // kHttpQueryParameterName
  // ringHash.minimumRingSize, or the deprecated top-level minimumRingSize.
  std::optional<uint64_t> minimum_ring_size;
  std::optional<uint64_t> maglev_table_size;  // maglev.tableSize: use Maglev instead of a ring
};

struct WarmupConfiguration {
  std::optional<Duration> duration;  // required
  std::optional<double> minimum_percent;
  std::optional<double> aggression;
};

struct LoadBalancerSettings {
  // simple: UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST.
  enum class Simple { kUnspecified, kLeastConn, kRandom, kPassthrough, kRoundRobin, kLeastRequest };
  std::optional<Simple> simple;
  std::optional<ConsistentHashLB> consistent_hash;
  std::optional<WarmupConfiguration> warmup;
  std::optional<Duration> warmup_duration_secs;
};

struct TcpKeepalive {
  std::optional<uint32_t> probes;
  std::optional<Duration> time;
  std::optional<Duration> interval;
};

struct TCPSettings {
  std::optional<int32_t> max_connections;
  std::optional<Duration> connect_timeout;
  std::optional<TcpKeepalive> tcp_keepalive;
  std::optional<Duration> max_connection_duration;
  std::optional<Duration> idle_timeout;
};

struct HTTPSettings {
  // h2UpgradePolicy: DEFAULT, DO_NOT_UPGRADE, UPGRADE.
  enum class H2UpgradePolicy { kDefault, kDoNotUpgrade, kUpgrade };
  std::optional<int32_t> http1_max_pending_requests;
  std::optional<int32_t> http2_max_requests;
  std::optional<int32_t> max_requests_per_connection;
  std::optional<int32_t> max_retries;
  std::optional<Duration> idle_timeout;
  std::optional<H2UpgradePolicy> h2_upgrade_policy;
  std::optional<bool> use_client_protocol;
  std::optional<int32_t> max_concurrent_streams;
  std::optional<Duration> http2_keepalive_interval;  // http2KeepAlive.interval
  std::optional<Duration> http2_keepalive_timeout;   // http2KeepAlive.timeout
};

struct ConnectionPoolSettings {
  std::optional<TCPSettings> tcp;
  std::optional<HTTPSettings> http;
};

struct OutlierDetection {
  std::optional<int32_t> consecutive_errors;  // deprecated alias of consecutive5xxErrors
  std::optional<int32_t> consecutive_gateway_errors;
  std::optional<int32_t> consecutive_5xx_errors;
  std::optional<bool> split_external_local_origin_errors;
  std::optional<int32_t> consecutive_local_origin_failures;
  std::optional<Duration> interval;
  std::optional<Duration> base_ejection_time;
  std::optional<int32_t> max_ejection_percent;
  std::optional<int32_t> min_health_percent;
};

struct ClientTLSSettings {
  // mode: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL.
  enum class Mode { kDisable, kSimple, kMutual, kIstioMutual };
  Mode mode = Mode::kDisable;
  std::string sni;
  std::string credential_name;
};

struct PortTrafficPolicy {
  std::optional<uint32_t> port;  // port.number
  std::optional<LoadBalancerSettings> load_balancer;
  std::optional<ConnectionPoolSettings> connection_pool;
  std::optional<OutlierDetection> outlier_detection;
  std::optional<ClientTLSSettings> tls;
};

struct TrafficPolicy {
  std::optional<LoadBalancerSettings> load_balancer;
  std::optional<ConnectionPoolSettings> connection_pool;
  std::optional<OutlierDetection> outlier_detection;
  std::optional<ClientTLSSettings> tls;
  std::vector<PortTrafficPolicy> port_level_settings;
};

struct Subset {
  std::string name;
  Labels labels;
  std::optional<TrafficPolicy> traffic_policy;
};

struct DestinationRule {
  std::string api_version;
  ObjectMeta meta;
  Origin origin;
  std::string host;
  std::optional<TrafficPolicy> traffic_policy;
  std::vector<Subset> subsets;
  std::vector<std::string> export_to;
  Labels workload_selector;  // workloadSelector.matchLabels
};

}  // namespace cmesh::model
