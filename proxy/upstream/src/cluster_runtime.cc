#include "cmesh/upstream/cluster_runtime.h"

#include <algorithm>
#include <cmath>

namespace cmesh::upstream {
namespace {

std::int64_t Nanos(event::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool GatewayError(int status) { return status == 502 || status == 503 || status == 504; }

}  // namespace

bool TryAcquire(std::atomic<std::uint64_t>& counter, std::uint64_t limit) {
  std::uint64_t current = counter.load(std::memory_order_relaxed);
  do {
    if (current >= limit) return false;
  } while (!counter.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  return true;
}

std::uint64_t ClusterRuntime::RetryLimit(const CircuitBreakerThresholds& thresholds, std::uint64_t outstanding) {
  if (!thresholds.retry_budget) return thresholds.max_retries;
  const auto& budget = *thresholds.retry_budget;
  const auto allowed = static_cast<std::uint64_t>(std::floor(budget.budget_percent / 100.0 * static_cast<double>(outstanding)));
  return std::max<std::uint64_t>(budget.min_retry_concurrency, allowed);
}

bool ClusterRuntime::CanRetry(const ClusterInfo& cluster, bool holding) const {
  const std::uint64_t outstanding = requests.load(std::memory_order_relaxed) + pending.load(std::memory_order_relaxed);
  std::uint64_t active = retries.load(std::memory_order_relaxed);
  if (holding && active > 0) --active;
  return active < RetryLimit(cluster.thresholds, outstanding);
}

std::vector<std::shared_ptr<HostHealth>> ClusterRuntime::ApplyConfig(const ClusterInfo& cluster) {
  max_connections_.store(cluster.thresholds.max_connections, std::memory_order_relaxed);
  max_pending_.store(cluster.thresholds.max_pending_requests, std::memory_order_relaxed);
  max_requests_.store(cluster.thresholds.max_requests, std::memory_order_relaxed);
  std::vector<std::shared_ptr<HostHealth>> out;
  out.reserve(cluster.hosts.size());
  std::lock_guard lock(hosts_mutex_);
  std::erase_if(hosts_, [](const auto& entry) { return entry.second.expired(); });
  for (const Host& host : cluster.hosts) {
    auto& slot = hosts_[host.address.ToString()];
    auto health = slot.lock();
    if (!health) {
      health = std::make_shared<HostHealth>();
      slot = health;
    }
    out.push_back(std::move(health));
  }
  return out;
}

bool ClusterRuntime::Report(const ClusterInfo& cluster, std::span<const std::shared_ptr<HostHealth>> hosts,
                            std::size_t host, AttemptResult result, int status, event::Clock::time_point now,
                            Random& random) {
  if (!cluster.outlier || host >= hosts.size()) return false;
  const OutlierDetectionConfig& od = *cluster.outlier;
  HostHealth& h = *hosts[host];
  if (od.split_external_local_origin_errors) {
    switch (result) {
      case AttemptResult::kConnectSuccess:
        h.consecutive_local.store(0, std::memory_order_relaxed);
        return false;
      case AttemptResult::kConnectFailure:
      case AttemptResult::kTimeout:
      case AttemptResult::kReset:
        if (h.consecutive_local.fetch_add(1, std::memory_order_relaxed) + 1 == od.consecutive_local_origin_failure) {
          h.consecutive_local.store(0, std::memory_order_relaxed);
          return OnThreshold(cluster, hosts, host, od.enforcing_consecutive_local_origin_failure, now, random);
        }
        return false;
      case AttemptResult::kResponse: break;
    }
  } else {
    // Envoy folds locally originated errors into the HTTP codes they stand for.
    switch (result) {
      case AttemptResult::kConnectSuccess: return false;  // the answer's status decides
      case AttemptResult::kConnectFailure:
      case AttemptResult::kReset: status = 503; break;
      case AttemptResult::kTimeout: status = 504; break;
      case AttemptResult::kResponse: break;
    }
  }
  if (status < 500 || status > 599) {
    h.consecutive_5xx.store(0, std::memory_order_relaxed);
    h.consecutive_gateway.store(0, std::memory_order_relaxed);
    return false;
  }
  bool ejected = false;
  if (GatewayError(status)) {
    if (h.consecutive_gateway.fetch_add(1, std::memory_order_relaxed) + 1 == od.consecutive_gateway_failure) {
      h.consecutive_gateway.store(0, std::memory_order_relaxed);
      ejected = OnThreshold(cluster, hosts, host, od.enforcing_consecutive_gateway_failure, now, random);
    }
  } else {
    h.consecutive_gateway.store(0, std::memory_order_relaxed);
  }
  if (h.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1 == od.consecutive_5xx) {
    h.consecutive_5xx.store(0, std::memory_order_relaxed);
    if (!ejected) ejected = OnThreshold(cluster, hosts, host, od.enforcing_consecutive_5xx, now, random);
  }
  return ejected;
}

bool ClusterRuntime::OnThreshold(const ClusterInfo& cluster, std::span<const std::shared_ptr<HostHealth>> hosts,
                                 std::size_t host, std::uint32_t enforcing, event::Clock::time_point now,
                                 Random& random) {
  const OutlierDetectionConfig& od = *cluster.outlier;
  // Starts the interval clock on the first detection, so the sweeps return ejected hosts.
  std::int64_t expected = 0;
  next_sweep_ns_.compare_exchange_strong(expected, Nanos(now) + std::chrono::nanoseconds(od.interval).count(),
                                         std::memory_order_relaxed);
  if (enforcing == 0 || (enforcing < 100 && random.Below(100) >= enforcing)) return false;
  HostHealth& h = *hosts[host];
  if (h.Ejected()) return false;
  // The ejected count and the ejection must agree: one decision at a time, and a worker that
  // finds another deciding gives up instead of waiting (its endpoint's counter restarts, the
  // next run of errors tries again).
  if (ejecting_.exchange(true, std::memory_order_acquire)) return false;
  std::size_t ejected = 0;
  for (const auto& other : hosts) ejected += other->Ejected() ? 1 : 0;
  const bool within = (ejected + 1) * 100 <= static_cast<std::size_t>(od.max_ejection_percent) * hosts.size();
  const bool allowed = within || (od.always_eject_one_host && ejected == 0);
  if (allowed && !h.Ejected()) {
    h.ejected_at_ns.store(Nanos(now), std::memory_order_relaxed);
    // Envoy grows the multiplier while base x multiplier stays below max + base.
    const std::uint32_t m = h.multiplier.load(std::memory_order_relaxed);
    if (std::chrono::milliseconds(od.base_ejection_time.count() * static_cast<std::int64_t>(m)) <
        od.max_ejection_time + od.base_ejection_time) {
      h.multiplier.store(m + 1, std::memory_order_relaxed);
    }
    h.times_ejected.fetch_add(1, std::memory_order_relaxed);
    h.ejected.store(true, std::memory_order_release);
    stats.ejections_enforced.fetch_add(1, std::memory_order_relaxed);
  } else if (!allowed) {
    stats.ejections_overflow.fetch_add(1, std::memory_order_relaxed);
  }
  ejecting_.store(false, std::memory_order_release);
  return allowed;
}

bool ClusterRuntime::MaybeSweep(const ClusterInfo& cluster, std::span<const std::shared_ptr<HostHealth>> hosts,
                                event::Clock::time_point now) {
  if (!cluster.outlier) return false;
  std::int64_t due = next_sweep_ns_.load(std::memory_order_relaxed);
  const std::int64_t now_ns = Nanos(now);
  if (due == 0 || now_ns < due) return false;
  const std::int64_t interval = std::chrono::nanoseconds(cluster.outlier->interval).count();
  const std::uint64_t intervals = static_cast<std::uint64_t>((now_ns - due) / interval) + 1;
  if (!next_sweep_ns_.compare_exchange_strong(due, due + static_cast<std::int64_t>(intervals) * interval,
                                              std::memory_order_relaxed)) {
    return false;  // another worker claimed it
  }
  Sweep(*cluster.outlier, hosts, now, intervals);
  return true;
}

void ClusterRuntime::Sweep(const OutlierDetectionConfig& od, std::span<const std::shared_ptr<HostHealth>> hosts,
                           event::Clock::time_point now, std::uint64_t intervals) {
  const std::int64_t now_ns = Nanos(now);
  for (const auto& host : hosts) {
    HostHealth& h = *host;
    const std::uint32_t m = h.multiplier.load(std::memory_order_relaxed);
    if (!h.Ejected()) {
      // The gradual return: one step down per interval without an ejection.
      if (m > 0) h.multiplier.store(static_cast<std::uint32_t>(m > intervals ? m - intervals : 0), std::memory_order_relaxed);
      continue;
    }
    const auto ejection = std::min(od.base_ejection_time * static_cast<std::int64_t>(m),
                                   std::max(od.max_ejection_time, od.base_ejection_time));
    if (now_ns - h.ejected_at_ns.load(std::memory_order_relaxed) >= std::chrono::nanoseconds(ejection).count()) {
      h.consecutive_5xx.store(0, std::memory_order_relaxed);
      h.consecutive_gateway.store(0, std::memory_order_relaxed);
      h.consecutive_local.store(0, std::memory_order_relaxed);
      h.ejected.store(false, std::memory_order_release);
    }
  }
}

ClusterRuntimeRegistry& ClusterRuntimeRegistry::Default() {
  static ClusterRuntimeRegistry* registry = new ClusterRuntimeRegistry();  // never destroyed: used at exit
  return *registry;
}

std::shared_ptr<ClusterRuntime> ClusterRuntimeRegistry::For(const std::string& cluster_name) {
  std::lock_guard lock(mutex_);
  // Forget the clusters nobody holds any more (config path only, so the scan is affordable).
  std::erase_if(runtimes_, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = runtimes_[cluster_name];
  auto runtime = slot.lock();
  if (!runtime) {
    runtime = std::make_shared<ClusterRuntime>(cluster_name);
    slot = runtime;
  }
  return runtime;
}

}  // namespace cmesh::upstream
