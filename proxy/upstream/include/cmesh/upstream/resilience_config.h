// A cluster's resilience settings as Envoy reads them from the Cluster: the circuit breaker
// thresholds of the DEFAULT priority (with the retry budget) and the outlier detection. Parsed
// once per CDS update into ClusterInfo (immutable); the counters they limit live in the
// ClusterRuntime shared by the workers (cluster_runtime.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "envoy/config/cluster/v3/cluster.pb.h"

namespace cmesh::upstream {

// Envoy's retry budget: while set it replaces max_retries. Active retries may reach
// max(min_retry_concurrency, budget_percent % of the active and pending requests).
// Without one (Istio never sends it), Envoy limits concurrent retries by max_retries alone (3 by
// default; Istio sends 4294967295 unless connectionPool.http.maxRetries says less), and so
// does cmesh-proxy: a failing upstream is then held off by outlier detection and back-off.
struct RetryBudget {
  double budget_percent = 20.0;
  std::uint32_t min_retry_concurrency = 3;
};

// Cluster.circuit_breakers.thresholds, priority DEFAULT. Envoy's defaults (1024, and 3 for
// max_retries) when the cluster has no thresholds for that priority or leaves a field unset;
// Istio always sends them (4294967295 unless the DestinationRule's connectionPool says less).
struct CircuitBreakerThresholds {
  std::uint32_t max_connections = 1024;
  std::uint32_t max_pending_requests = 1024;
  std::uint32_t max_requests = 1024;
  std::uint32_t max_retries = 3;
  std::optional<RetryBudget> retry_budget;
};

// Cluster.outlier_detection with Envoy's defaults for what is unset. Only the consecutive-error
// detectors: the success-rate and failure-percentage ones are refused unless disabled
// (enforcing 0), which is what Istio sends.
struct OutlierDetectionConfig {
  std::uint32_t consecutive_5xx = 5;
  std::uint32_t enforcing_consecutive_5xx = 100;             // percent
  std::uint32_t consecutive_gateway_failure = 5;
  std::uint32_t enforcing_consecutive_gateway_failure = 0;   // percent: Envoy's default is off
  bool split_external_local_origin_errors = false;
  std::uint32_t consecutive_local_origin_failure = 5;
  std::uint32_t enforcing_consecutive_local_origin_failure = 100;
  std::chrono::milliseconds interval{10000};
  std::chrono::milliseconds base_ejection_time{30000};
  std::chrono::milliseconds max_ejection_time{300000};
  std::uint32_t max_ejection_percent = 10;
  bool always_eject_one_host = false;
};

// Fills `out` from the cluster; false with *error (without the cluster's name) when a field
// asks for something cmesh-proxy does not do.
bool ParseCircuitBreakers(const envoy::config::cluster::v3::Cluster& cluster, CircuitBreakerThresholds* out,
                          std::string* error);
bool ParseOutlierDetection(const envoy::config::cluster::v3::Cluster& cluster,
                           std::optional<OutlierDetectionConfig>* out, std::string* error);

}  // namespace cmesh::upstream
