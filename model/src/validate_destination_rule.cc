// DestinationRule validation with Istio's semantics (pilot's ValidateDestinationRule plus the
// CRD's CEL rules, whose messages the validation corpus quotes as "<path>: Invalid value").
#include <set>

#include "cmesh/model/validation.h"
#include "validation_checks.h"

namespace cmesh::model {
namespace {

using internal::Problems;
using internal::Quote;

void CheckDuration(Problems& p, const std::string& field, const std::optional<Duration>& d) {
  if (!d) return;
  if (auto e = internal::DurationError(*d)) p.Invalid(field, *e);
}

void CheckNonNegative(Problems& p, const std::string& field, const std::optional<int32_t>& v) {
  if (v && *v < 0) p.Invalid(field, std::to_string(*v) + ": must not be negative");
}

void CheckPercentInt(Problems& p, const std::string& field, const std::optional<int32_t>& v) {
  if (v && (*v < 0 || *v > 100)) {
    p.Invalid(field, std::to_string(*v) + ": percentage must be between 0 and 100");
  }
}

// Envoy's Maglev needs a prime table size.
bool IsPrime(uint64_t x) {
  if (x < 2) return false;
  if (x < 4) return true;
  if (x % 2 == 0) return false;
  for (uint64_t f = 3; f * f <= x; f += 2) {
    if (x % f == 0) return false;
  }
  return true;
}

void CheckLoadBalancer(Problems& p, const std::string& field, const LoadBalancerSettings& lb) {
  if (lb.simple && lb.consistent_hash) {
    p.Invalid(field, "only one of simple or consistentHash may be set");
  }
  if (lb.consistent_hash) {
    const ConsistentHashLB& ch = *lb.consistent_hash;
    std::string f = field + ".consistentHash";
    switch (ch.kind) {
      case ConsistentHashLB::Kind::kHttpHeaderName:
        if (ch.header_name.empty()) {
          p.Required(f + ".httpHeaderName", "a consistent hash needs a key (header name, cookie, "
                                            "source IP or query parameter)");
        } else if (!internal::IsHttpToken(ch.header_name)) {
          p.Invalid(f + ".httpHeaderName", Quote(ch.header_name) + ": not a valid HTTP header name");
        }
        break;
      case ConsistentHashLB::Kind::kHttpCookie:
        // Current Istio requires the name only (older releases also required a ttl).
        if (ch.cookie.name.empty()) p.Required(f + ".httpCookie.name", "a hash cookie needs a name");
        if (ch.cookie.ttl && ch.cookie.ttl->nanos < 0) {
          p.Invalid(f + ".httpCookie.ttl", "ttl must not be negative");
        }
        break;
      case ConsistentHashLB::Kind::kHttpQueryParameterName:
        if (ch.query_param.empty()) {
          p.Required(f + ".httpQueryParameterName", "the query parameter name must not be empty");
        }
        break;
      case ConsistentHashLB::Kind::kUseSourceIp:
        break;
    }
    if (ch.maglev_table_size) {
      uint64_t n = *ch.maglev_table_size;
      if (n == 0) {
        p.Required(f + ".maglev.tableSize", "tableSize must be set for maglev");
      } else if (n >= 5000011) {
        p.Invalid(f + ".maglev.tableSize", std::to_string(n) + ": must be less than 5000011");
      } else if (!IsPrime(n)) {
        p.Invalid(f + ".maglev.tableSize", std::to_string(n) + ": must be a prime number");
      }
    }
  }
  if (lb.warmup) {
    std::string f = field + ".warmup";
    const WarmupConfiguration& w = *lb.warmup;
    if (!w.duration) {
      p.Required(f + ".duration", "warmup needs a duration");
    } else {
      CheckDuration(p, f + ".duration", w.duration);
    }
    if (w.minimum_percent && (*w.minimum_percent < 0 || *w.minimum_percent > 100)) {
      p.Invalid(f + ".minimumPercent", internal::FormatNumber(*w.minimum_percent) +
                                           ": must be between 0 and 100");
    }
    if (w.aggression && *w.aggression < 1) {
      p.Invalid(f + ".aggression",
                internal::FormatNumber(*w.aggression) + ": must be greater than or equal to 1");
    }
  }
  CheckDuration(p, field + ".warmupDurationSecs", lb.warmup_duration_secs);
}

void CheckConnectionPool(Problems& p, const std::string& field, const ConnectionPoolSettings& cp) {
  if (!cp.tcp && !cp.http) p.Required(field, "a connection pool needs tcp or http settings");
  if (cp.tcp) {
    std::string f = field + ".tcp";
    CheckNonNegative(p, f + ".maxConnections", cp.tcp->max_connections);
    CheckDuration(p, f + ".connectTimeout", cp.tcp->connect_timeout);
    CheckDuration(p, f + ".maxConnectionDuration", cp.tcp->max_connection_duration);
    // A TCP idle timeout of 0s disables it, which Istio allows.
    if (cp.tcp->idle_timeout && cp.tcp->idle_timeout->nanos != 0) {
      CheckDuration(p, f + ".idleTimeout", cp.tcp->idle_timeout);
    }
    if (cp.tcp->tcp_keepalive) {
      CheckDuration(p, f + ".tcpKeepalive.time", cp.tcp->tcp_keepalive->time);
      CheckDuration(p, f + ".tcpKeepalive.interval", cp.tcp->tcp_keepalive->interval);
    }
  }
  if (cp.http) {
    std::string f = field + ".http";
    const HTTPSettings& h = *cp.http;
    CheckNonNegative(p, f + ".http1MaxPendingRequests", h.http1_max_pending_requests);
    CheckNonNegative(p, f + ".http2MaxRequests", h.http2_max_requests);
    CheckNonNegative(p, f + ".maxRequestsPerConnection", h.max_requests_per_connection);
    CheckNonNegative(p, f + ".maxRetries", h.max_retries);
    CheckNonNegative(p, f + ".maxConcurrentStreams", h.max_concurrent_streams);
    CheckDuration(p, f + ".idleTimeout", h.idle_timeout);
    if (h.h2_upgrade_policy == HTTPSettings::H2UpgradePolicy::kUpgrade &&
        h.use_client_protocol.value_or(false)) {
      p.Invalid(f + ".useClientProtocol", "must not be true when h2UpgradePolicy is UPGRADE");
    }
    CheckDuration(p, f + ".http2KeepAlive.interval", h.http2_keepalive_interval);
    CheckDuration(p, f + ".http2KeepAlive.timeout", h.http2_keepalive_timeout);
  }
}

void CheckOutlierDetection(Problems& p, const std::string& field, const OutlierDetection& od) {
  CheckNonNegative(p, field + ".consecutiveErrors", od.consecutive_errors);
  CheckNonNegative(p, field + ".consecutiveGatewayErrors", od.consecutive_gateway_errors);
  CheckNonNegative(p, field + ".consecutive5xxErrors", od.consecutive_5xx_errors);
  CheckNonNegative(p, field + ".consecutiveLocalOriginFailures",
                   od.consecutive_local_origin_failures);
  if (od.consecutive_local_origin_failures.value_or(0) > 0 &&
      !od.split_external_local_origin_errors.value_or(false)) {
    p.Invalid(field + ".consecutiveLocalOriginFailures",
              "requires splitExternalLocalOriginErrors to be true");
  }
  if (od.consecutive_errors.value_or(0) != 0) {
    p.Warn(field + ".consecutiveErrors",
           "deprecated; use consecutiveGatewayErrors or consecutive5xxErrors instead");
  }
  CheckDuration(p, field + ".interval", od.interval);
  CheckDuration(p, field + ".baseEjectionTime", od.base_ejection_time);
  CheckPercentInt(p, field + ".maxEjectionPercent", od.max_ejection_percent);
  CheckPercentInt(p, field + ".minHealthPercent", od.min_health_percent);
}

template <typename Policy>
void CheckPolicyCommon(Problems& p, const std::string& field, const Policy& policy) {
  if (policy.load_balancer) CheckLoadBalancer(p, field + ".loadBalancer", *policy.load_balancer);
  if (policy.connection_pool) {
    CheckConnectionPool(p, field + ".connectionPool", *policy.connection_pool);
  }
  if (policy.outlier_detection) {
    CheckOutlierDetection(p, field + ".outlierDetection", *policy.outlier_detection);
  }
}

void CheckTrafficPolicy(Problems& p, const std::string& field, const TrafficPolicy& tp) {
  CheckPolicyCommon(p, field, tp);
  for (size_t i = 0; i < tp.port_level_settings.size(); ++i) {
    const PortTrafficPolicy& pol = tp.port_level_settings[i];
    std::string f = field + ".portLevelSettings[" + std::to_string(i) + "]";
    if (!pol.port) {
      p.Required(f + ".port", "port-level settings need a port");
    } else if (*pol.port < 1 || *pol.port > 65535) {
      p.Invalid(f + ".port.number",
                std::to_string(*pol.port) + ": port number must be between 1 and 65535");
    }
    if (!pol.load_balancer && !pol.connection_pool && !pol.outlier_detection && !pol.tls) {
      p.Required(f, "port-level settings need at least one of loadBalancer, connectionPool, "
                    "outlierDetection or tls");
    }
    CheckPolicyCommon(p, f, pol);
  }
}

}  // namespace

std::vector<Diagnostic> Validate(const DestinationRule& dr) {
  Problems p(ObjectRef{dr.origin.file, dr.origin.line, "DestinationRule", dr.meta.ns, dr.meta.name});
  if (dr.host.empty()) {
    p.Required("spec.host", "a destination rule needs a host");
  } else if (auto e = internal::WildcardDomainError(dr.host)) {
    p.Invalid("spec.host", *e);
  }
  if (dr.traffic_policy) CheckTrafficPolicy(p, "spec.trafficPolicy", *dr.traffic_policy);
  std::set<std::string> names;
  for (size_t i = 0; i < dr.subsets.size(); ++i) {
    const Subset& s = dr.subsets[i];
    std::string f = "spec.subsets[" + std::to_string(i) + "]";
    if (s.name.empty()) {
      p.Required(f + ".name", "a subset needs a name");
    } else if (!internal::IsDns1123Label(s.name)) {
      p.Invalid(f + ".name", Quote(s.name) + ": subset name must be a DNS-1123 label");
    } else if (!names.insert(s.name).second) {
      p.Duplicate(f + ".name", Quote(s.name) + ": subset names must be unique");
    }
    internal::ValidateLabels(p, f + ".labels", s.labels);
    if (s.traffic_policy) CheckTrafficPolicy(p, f + ".trafficPolicy", *s.traffic_policy);
  }
  internal::ValidateExportTo(p, "spec.exportTo", dr.export_to);
  internal::ValidateLabels(p, "spec.workloadSelector.matchLabels", dr.workload_selector);
  for (const auto& [k, v] : dr.workload_selector) {
    if (k.find('*') != std::string::npos || v.find('*') != std::string::npos) {
      p.Invalid("spec.workloadSelector.matchLabels[" + k + "]", "wildcards are not supported");
    }
  }
  return p.Take();
}

}  // namespace cmesh::model
