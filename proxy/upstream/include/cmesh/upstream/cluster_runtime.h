// The state of a cluster that every worker shares: the circuit breakers' counters and the
// outlier detector's view of each endpoint. One ClusterRuntime per cluster name in the process
// (ClusterRuntimeRegistry), so it outlives the ClusterInfo objects a config change replaces:
// the counters and the ejections carry over to the new cluster.
//
// The request path only uses atomics here; the registry's mutex is taken when a worker builds
// its state for a new ClusterInfo (on a config change), never per request.
//
// Outlier detection follows Envoy's consecutive-error detectors:
// - each attempt's outcome is reported for its endpoint: a 5xx answer counts for
//   consecutive_5xx, a 502/503/504 also for consecutive_gateway_failure, any other answer resets
//   both; connect failures and timeouts are locally originated errors, folded in as a 503 (connect
//   failure, reset) or 504 (timeout) unless split_external_local_origin_errors, where they count
//   for consecutive_local_origin_failure instead and a connect success resets that count;
// - reaching a threshold ejects the endpoint when the enforcing_* percentage draws true and the
//   ejected endpoints stay within max_ejection_percent (always_eject_one_host lets the first go);
//   the counter restarts either way, as in Envoy;
// - an ejected endpoint returns at the first interval sweep after base_ejection_time x its
//   ejection multiplier (capped by max_ejection_time); the multiplier goes up by one per
//   ejection and down by one per interval that finds the endpoint not ejected (the gradual
//   return);
// - the sweep is not a timer of its own: the first worker to see an interval due claims it (a
//   compare-and-swap) and sweeps the endpoints, so nothing happens on idle clusters and a quiet
//   period is caught up at once (one step of decay per interval missed).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cmesh/event/event_loop.h"
#include "cmesh/upstream/cluster_info.h"
#include "cmesh/upstream/random.h"

namespace cmesh::upstream {

// One endpoint's outlier state, shared by the workers.
struct HostHealth {
  std::atomic<std::uint32_t> consecutive_5xx{0};
  std::atomic<std::uint32_t> consecutive_gateway{0};
  std::atomic<std::uint32_t> consecutive_local{0};
  std::atomic<bool> ejected{false};
  std::atomic<std::uint32_t> multiplier{0};        // Envoy's ejection time back-off
  std::atomic<std::int64_t> ejected_at_ns{0};      // steady clock, when ejected
  std::atomic<std::uint64_t> times_ejected{0};

  bool Ejected() const { return ejected.load(std::memory_order_relaxed); }
};

// What happened to one attempt on an endpoint, for the outlier detector.
enum class AttemptResult {
  kResponse,         // an answer with a status (see ReportStatus)
  kConnectFailure,   // refused, unreachable, reset while connecting (locally originated)
  kConnectSuccess,   // the connection was made (locally originated success)
  kTimeout,          // connect or response timeout (locally originated)
  kReset,            // the upstream closed or reset before its answer (locally originated)
};

// Cluster-wide counters, for the metrics (Envoy's stat names).
struct ClusterRuntimeStats {
  std::atomic<std::uint64_t> upstream_cx_overflow{0};
  std::atomic<std::uint64_t> upstream_rq_pending_overflow{0};
  std::atomic<std::uint64_t> upstream_rq_retry_overflow{0};
  std::atomic<std::uint64_t> ejections_enforced{0};
  std::atomic<std::uint64_t> ejections_overflow{0};  // detected, refused by max_ejection_percent
};

class ClusterRuntime {
 public:
  explicit ClusterRuntime(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // Circuit breaker counters (all workers, all endpoints).
  std::atomic<std::uint64_t> connections{0};   // open upstream connections
  std::atomic<std::uint64_t> pending{0};       // requests waiting for a connection
  std::atomic<std::uint64_t> requests{0};      // requests on a connection
  std::atomic<std::uint64_t> retries{0};       // requests that are retrying
  ClusterRuntimeStats stats;

  // The thresholds of the newest ClusterInfo of this name (ApplyConfig).
  std::uint32_t max_connections() const { return max_connections_.load(std::memory_order_relaxed); }
  std::uint32_t max_pending_requests() const { return max_pending_.load(std::memory_order_relaxed); }
  std::uint32_t max_requests() const { return max_requests_.load(std::memory_order_relaxed); }

  // Whether one more retry may start now (Envoy's retries resource): under the retry budget
  // when the cluster has one, else under max_retries. `holding`: the caller already counts in
  // `retries` (a request retrying again, whose slot Envoy releases before checking).
  bool CanRetry(const ClusterInfo& cluster, bool holding) const;
  // The limit CanRetry applies, for the given active+pending request count.
  static std::uint64_t RetryLimit(const CircuitBreakerThresholds& thresholds, std::uint64_t outstanding);

  // Takes the newest cluster's thresholds and returns the shared health of each of its hosts (by
  // host index), reusing the state of endpoints it had before. Takes the registry's mutex.
  std::vector<std::shared_ptr<HostHealth>> ApplyConfig(const ClusterInfo& cluster);

  // Outlier detection (no-ops for a cluster without it). `now` is the caller's clock, so tests
  // can drive time. Returns true when this report ejected the endpoint.
  bool Report(const ClusterInfo& cluster, std::span<const std::shared_ptr<HostHealth>> hosts, std::size_t host,
              AttemptResult result, int status, event::Clock::time_point now, Random& random);
  // The interval sweep when one is due (cheap when not: one atomic load). Returns true when
  // this call ran it.
  bool MaybeSweep(const ClusterInfo& cluster, std::span<const std::shared_ptr<HostHealth>> hosts,
                  event::Clock::time_point now);

 private:
  bool OnThreshold(const ClusterInfo& cluster, std::span<const std::shared_ptr<HostHealth>> hosts, std::size_t host,
                   std::uint32_t enforcing, event::Clock::time_point now, Random& random);
  void Sweep(const OutlierDetectionConfig& od, std::span<const std::shared_ptr<HostHealth>> hosts,
             event::Clock::time_point now, std::uint64_t intervals);

  const std::string name_;
  std::atomic<std::uint32_t> max_connections_{1024};
  std::atomic<std::uint32_t> max_pending_{1024};
  std::atomic<std::uint32_t> max_requests_{1024};
  std::atomic<std::int64_t> next_sweep_ns_{0};   // 0: not started
  std::atomic<bool> ejecting_{false};            // one ejection decision at a time (never waits)
  std::mutex hosts_mutex_;                        // config path only
  std::map<std::string, std::weak_ptr<HostHealth>> hosts_;  // by "ip:port"
};

// Process-wide: one ClusterRuntime per cluster name while any worker state holds it.
class ClusterRuntimeRegistry {
 public:
  static ClusterRuntimeRegistry& Default();
  std::shared_ptr<ClusterRuntime> For(const std::string& cluster_name);

 private:
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<ClusterRuntime>, std::less<>> runtimes_;
};

// Takes `counter` up by one unless it is at `limit` already; true when taken.
bool TryAcquire(std::atomic<std::uint64_t>& counter, std::uint64_t limit);
inline void Release(std::atomic<std::uint64_t>& counter) { counter.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace cmesh::upstream
