#include "traffic_policy.h"

#include <limits>

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "proto_util.h"

namespace cmesh::compiler {
namespace {

using envoy::config::cluster::v3::Cluster;
constexpr char kHttpOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

void Overlay(EffectivePolicy& into, const std::optional<model::LoadBalancerSettings>& lb,
             const std::optional<model::ConnectionPoolSettings>& pool,
             const std::optional<model::OutlierDetection>& outlier,
             const std::optional<model::ClientTLSSettings>& tls) {
  if (lb) into.load_balancer = lb;
  if (pool) into.connection_pool = pool;
  if (outlier) into.outlier_detection = outlier;
  if (tls) into.tls = tls;
}

void OverlayPolicy(EffectivePolicy& into, const model::TrafficPolicy& policy, uint32_t port) {
  Overlay(into, policy.load_balancer, policy.connection_pool, policy.outlier_detection, policy.tls);
  for (const auto& p : policy.port_level_settings) {
    if (p.port && *p.port == port) {
      Overlay(into, p.load_balancer, p.connection_pool, p.outlier_detection, p.tls);
    }
  }
}

// Istio's setWarmup / setSlowStartConfig. `warmup` (duration, minimumPercent, aggression) wins
// over the deprecated warmupDurationSecs, which only sets the window. Istio fills in the
// defaults explicitly: aggression 1.0 (a linear ramp) and a minimum weight of 10% (Envoy's own
// default), so the output says what the proxy will do.
Cluster::SlowStartConfig SlowStartFor(const model::LoadBalancerSettings& lb) {
  Cluster::SlowStartConfig out;
  if (lb.warmup) {
    if (lb.warmup->duration) SetDuration(*lb.warmup->duration, out.mutable_slow_start_window());
    auto* aggression = out.mutable_aggression();
    aggression->set_default_value(lb.warmup->aggression.value_or(1.0));
    // Envoy requires a runtime key; Istio does not expose the value at runtime and uses a key
    // no runtime layer can set ("("), so the configured value is the one that applies.
    aggression->set_runtime_key("(");
    out.mutable_min_weight_percent()->set_value(lb.warmup->minimum_percent.value_or(10.0));
  } else if (lb.warmup_duration_secs) {
    SetDuration(*lb.warmup_duration_secs, out.mutable_slow_start_window());
  }
  return out;
}

// Slow start exists in Envoy for ROUND_ROBIN and LEAST_REQUEST only (Istio sets it there and
// nowhere else); for other policies the warmup is reported as ignored.
void ApplyWarmup(const model::LoadBalancerSettings& lb, Cluster* cluster, const std::string& context,
                 std::vector<std::string>* warnings) {
  if (!lb.warmup && !lb.warmup_duration_secs) return;
  if (cluster->type() == Cluster::ORIGINAL_DST) {
    warnings->push_back(context + ": loadBalancer warmup has no effect with simple PASSTHROUGH and is ignored");
    return;
  }
  switch (cluster->lb_policy()) {
    case Cluster::ROUND_ROBIN:
      *cluster->mutable_round_robin_lb_config()->mutable_slow_start_config() = SlowStartFor(lb);
      break;
    case Cluster::LEAST_REQUEST:
      *cluster->mutable_least_request_lb_config()->mutable_slow_start_config() = SlowStartFor(lb);
      break;
    default:
      warnings->push_back(context + ": loadBalancer warmup only applies to ROUND_ROBIN and LEAST_REQUEST (" +
                          Cluster::LbPolicy_Name(cluster->lb_policy()) + " here) and is ignored");
  }
}

void ApplyLoadBalancer(const model::LoadBalancerSettings& lb, Cluster* cluster, const std::string& context,
                       std::vector<std::string>* warnings) {
  using Simple = model::LoadBalancerSettings::Simple;
  if (lb.consistent_hash) {
    const auto& ch = *lb.consistent_hash;
    if (ch.maglev_table_size) {
      cluster->set_lb_policy(Cluster::MAGLEV);
      cluster->mutable_maglev_lb_config()->mutable_table_size()->set_value(*ch.maglev_table_size);
    } else {
      cluster->set_lb_policy(Cluster::RING_HASH);
      // Istio's default minimum ring size.
      cluster->mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(
          ch.minimum_ring_size.value_or(1024));
    }
  } else if (lb.simple) {
    switch (*lb.simple) {
      case Simple::kUnspecified:
      case Simple::kRoundRobin:
        cluster->set_lb_policy(Cluster::ROUND_ROBIN);
        break;
      case Simple::kLeastConn:
      case Simple::kLeastRequest:
        cluster->set_lb_policy(Cluster::LEAST_REQUEST);
        break;
      case Simple::kRandom:
        cluster->set_lb_policy(Cluster::RANDOM);
        break;
      case Simple::kPassthrough:
        // Istio turns the cluster into an original-destination one: the caller picked the address.
        cluster->set_type(Cluster::ORIGINAL_DST);
        cluster->clear_eds_cluster_config();
        cluster->clear_load_assignment();  // a DNS cluster's endpoint has no meaning any more
        cluster->clear_dns_lookup_family();
        cluster->clear_respect_dns_ttl();
        cluster->clear_dns_refresh_rate();
        cluster->set_lb_policy(Cluster::CLUSTER_PROVIDED);
        break;
    }
  }
  ApplyWarmup(lb, cluster, context, warnings);
}

void ApplyConnectionPool(const model::ConnectionPoolSettings& pool, Protocol protocol, Cluster* cluster,
                         const std::string& context, std::vector<std::string>* warnings) {
  auto* thresholds = cluster->mutable_circuit_breakers()->mutable_thresholds(0);
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions http_options;
  bool has_http_options = false;
  if (pool.tcp) {
    const auto& tcp = *pool.tcp;
    if (tcp.max_connections) thresholds->mutable_max_connections()->set_value(*tcp.max_connections);
    if (tcp.connect_timeout) SetDuration(*tcp.connect_timeout, cluster->mutable_connect_timeout());
    if (tcp.tcp_keepalive) {
      auto* ka = cluster->mutable_upstream_connection_options()->mutable_tcp_keepalive();
      if (tcp.tcp_keepalive->probes) ka->mutable_keepalive_probes()->set_value(*tcp.tcp_keepalive->probes);
      if (tcp.tcp_keepalive->time) {
        ka->mutable_keepalive_time()->set_value(static_cast<uint32_t>(tcp.tcp_keepalive->time->nanos / 1'000'000'000));
      }
      if (tcp.tcp_keepalive->interval) {
        ka->mutable_keepalive_interval()->set_value(
            static_cast<uint32_t>(tcp.tcp_keepalive->interval->nanos / 1'000'000'000));
      }
    }
    if (tcp.max_connection_duration) {
      SetDuration(*tcp.max_connection_duration,
                  http_options.mutable_common_http_protocol_options()->mutable_max_connection_duration());
      has_http_options = true;
    }
  }
  bool http2 = IsHttp2(protocol);
  bool use_client_protocol = false;
  if (pool.http) {
    const auto& http = *pool.http;
    if (http.http1_max_pending_requests) {
      thresholds->mutable_max_pending_requests()->set_value(*http.http1_max_pending_requests);
    }
    if (http.http2_max_requests) thresholds->mutable_max_requests()->set_value(*http.http2_max_requests);
    if (http.max_retries) thresholds->mutable_max_retries()->set_value(*http.max_retries);
    if (http.max_requests_per_connection) {
      http_options.mutable_common_http_protocol_options()->mutable_max_requests_per_connection()->set_value(
          *http.max_requests_per_connection);
      has_http_options = true;
    }
    if (http.idle_timeout) {
      SetDuration(*http.idle_timeout, http_options.mutable_common_http_protocol_options()->mutable_idle_timeout());
      has_http_options = true;
    }
    using H2 = model::HTTPSettings::H2UpgradePolicy;
    if (http.h2_upgrade_policy && *http.h2_upgrade_policy == H2::kUpgrade && IsHttp(protocol)) http2 = true;
    if (http.h2_upgrade_policy && *http.h2_upgrade_policy == H2::kDoNotUpgrade) http2 = IsHttp2(protocol);
    if (http.use_client_protocol && *http.use_client_protocol) use_client_protocol = true;
    if (http.max_concurrent_streams || http.http2_keepalive_interval || http.http2_keepalive_timeout) {
      auto* h2 = http_options.mutable_explicit_http_config()->mutable_http2_protocol_options();
      if (http.max_concurrent_streams) h2->mutable_max_concurrent_streams()->set_value(*http.max_concurrent_streams);
      if (http.http2_keepalive_interval) {
        SetDuration(*http.http2_keepalive_interval, h2->mutable_connection_keepalive()->mutable_interval());
      }
      if (http.http2_keepalive_timeout) {
        SetDuration(*http.http2_keepalive_timeout, h2->mutable_connection_keepalive()->mutable_timeout());
      }
      if (!http2) http_options.clear_explicit_http_config();
    }
  }
  // Istio: the upstream connection idle timeout is http.idleTimeout, else tcp.idleTimeout (for
  // TCP ports too: Envoy's tcp_proxy upstream pools read the common HTTP options' idle timeout).
  // The listener's tcp_proxy gets tcp.idleTimeout separately (listener_builder).
  const bool http_idle = pool.http && pool.http->idle_timeout;
  if (!http_idle && pool.tcp && pool.tcp->idle_timeout) {
    SetDuration(*pool.tcp->idle_timeout, http_options.mutable_common_http_protocol_options()->mutable_idle_timeout());
    has_http_options = true;
  }
  // A port of unknown protocol carries whatever the client spoke (HTTP/1.1 or HTTP/2, sniffed):
  // the upstream speaks the same, as Istio's clusters for such ports do.
  if (IsSniffed(protocol) && !http2 && !(pool.http && pool.http->h2_upgrade_policy)) use_client_protocol = true;
  if (use_client_protocol) {
    http_options.mutable_use_downstream_protocol_config()->mutable_http2_protocol_options();
    http_options.mutable_use_downstream_protocol_config()->mutable_http_protocol_options();
    has_http_options = true;
  } else if (http2) {
    http_options.mutable_explicit_http_config()->mutable_http2_protocol_options();
    has_http_options = true;
  } else if (has_http_options) {
    // Envoy rejects HttpProtocolOptions without an upstream protocol; like Istio, HTTP/1 is the
    // explicit default, also on TCP clusters, where only the common options matter.
    http_options.mutable_explicit_http_config()->mutable_http_protocol_options();
  }
  if (has_http_options) {
    (*cluster->mutable_typed_extension_protocol_options())[kHttpOptionsKey].PackFrom(http_options);
  }
}

void ApplyOutlierDetection(const model::OutlierDetection& od, Cluster* cluster) {
  auto* out = cluster->mutable_outlier_detection();
  std::optional<int32_t> five_xx = od.consecutive_5xx_errors;
  if (!five_xx && od.consecutive_errors) five_xx = od.consecutive_errors;
  if (five_xx) {
    out->mutable_consecutive_5xx()->set_value(static_cast<uint32_t>(*five_xx));
    // Istio enforces what is configured and disables what is explicitly 0.
    out->mutable_enforcing_consecutive_5xx()->set_value(*five_xx > 0 ? 100 : 0);
  } else {
    // Without consecutive5xxErrors Istio still detects (Envoy's default of 5) — it leaves the
    // Envoy defaults in place, which is what an unset field does here too.
  }
  if (od.consecutive_gateway_errors) {
    out->mutable_consecutive_gateway_failure()->set_value(static_cast<uint32_t>(*od.consecutive_gateway_errors));
    out->mutable_enforcing_consecutive_gateway_failure()->set_value(*od.consecutive_gateway_errors > 0 ? 100 : 0);
  }
  if (od.interval) SetDuration(*od.interval, out->mutable_interval());
  if (od.base_ejection_time) SetDuration(*od.base_ejection_time, out->mutable_base_ejection_time());
  if (od.max_ejection_percent) out->mutable_max_ejection_percent()->set_value(static_cast<uint32_t>(*od.max_ejection_percent));
  if (od.split_external_local_origin_errors && *od.split_external_local_origin_errors) {
    out->set_split_external_local_origin_errors(true);
    if (od.consecutive_local_origin_failures) {
      out->mutable_consecutive_local_origin_failure()->set_value(
          static_cast<uint32_t>(*od.consecutive_local_origin_failures));
      out->mutable_enforcing_consecutive_local_origin_failure()->set_value(100);
    }
    out->mutable_enforcing_local_origin_success_rate()->set_value(0);
  }
  // Istio never enables success-rate ejection.
  out->mutable_enforcing_success_rate()->set_value(0);
  // Istio disables Envoy's panic mode (50% by default) with outlier detection unless
  // minHealthPercent says otherwise: with few pods per service, panic would send traffic back to
  // the ejected ones.
  cluster->mutable_common_lb_config()->mutable_healthy_panic_threshold()->set_value(od.min_health_percent.value_or(0));
}

}  // namespace

EffectivePolicy ResolvePolicy(const model::DestinationRule* rule, const model::Subset* subset, uint32_t port) {
  EffectivePolicy out;
  if (rule != nullptr && rule->traffic_policy) OverlayPolicy(out, *rule->traffic_policy, port);
  if (subset != nullptr && subset->traffic_policy) OverlayPolicy(out, *subset->traffic_policy, port);
  return out;
}

void ApplyPolicy(const EffectivePolicy& policy, Protocol protocol, Cluster* cluster, const std::string& context,
                 std::vector<std::string>* warnings) {
  // Istio's default thresholds: effectively unlimited, so Envoy's small defaults (1024) never
  // throttle a mesh that did not ask for it.
  auto* thresholds = cluster->mutable_circuit_breakers()->add_thresholds();
  constexpr uint32_t kMax = std::numeric_limits<uint32_t>::max();
  thresholds->mutable_max_connections()->set_value(kMax);
  thresholds->mutable_max_pending_requests()->set_value(kMax);
  thresholds->mutable_max_requests()->set_value(kMax);
  thresholds->mutable_max_retries()->set_value(kMax);
  thresholds->set_track_remaining(true);

  if (policy.load_balancer) ApplyLoadBalancer(*policy.load_balancer, cluster, context, warnings);
  if (policy.connection_pool) {
    ApplyConnectionPool(*policy.connection_pool, protocol, cluster, context, warnings);
  } else if (IsHttp2(protocol) || IsSniffed(protocol)) {
    ApplyConnectionPool(model::ConnectionPoolSettings{}, protocol, cluster, context, warnings);
  }
  if (policy.outlier_detection) ApplyOutlierDetection(*policy.outlier_detection, cluster);
  if (policy.tls && policy.tls->mode != model::ClientTLSSettings::Mode::kDisable) {
    warnings->push_back(context + ": DestinationRule tls settings are not supported yet and are ignored "
                                  "(traffic is sent in plaintext)");
  }
}

std::vector<envoy::config::route::v3::RouteAction::HashPolicy> HashPolicyFor(const EffectivePolicy& policy) {
  std::vector<envoy::config::route::v3::RouteAction::HashPolicy> out;
  if (!policy.load_balancer || !policy.load_balancer->consistent_hash) return out;
  const auto& ch = *policy.load_balancer->consistent_hash;
  envoy::config::route::v3::RouteAction::HashPolicy hp;
  using Kind = model::ConsistentHashLB::Kind;
  switch (ch.kind) {
    case Kind::kHttpHeaderName:
      hp.mutable_header()->set_header_name(ch.header_name);
      break;
    case Kind::kHttpCookie:
      hp.mutable_cookie()->set_name(ch.cookie.name);
      if (!ch.cookie.path.empty()) hp.mutable_cookie()->set_path(ch.cookie.path);
      if (ch.cookie.ttl) SetDuration(*ch.cookie.ttl, hp.mutable_cookie()->mutable_ttl());
      break;
    case Kind::kUseSourceIp:
      hp.mutable_connection_properties()->set_source_ip(true);
      break;
    case Kind::kHttpQueryParameterName:
      hp.mutable_query_parameter()->set_name(ch.query_param);
      break;
  }
  out.push_back(std::move(hp));
  return out;
}

}  // namespace cmesh::compiler
