#include "cmesh/upstream/load_balancer.h"

#include <algorithm>

namespace cmesh::upstream {

std::size_t WeightedRandom(const ClusterInfo& cluster, Random& random) {
  if (cluster.equal_weights) return static_cast<std::size_t>(random.Below(cluster.hosts.size()));
  // The first endpoint whose cumulative weight exceeds a uniform draw in [0, total).
  const std::uint64_t draw = random.Below(cluster.total_weight);
  const auto it = std::upper_bound(cluster.cumulative_weights.begin(), cluster.cumulative_weights.end(), draw);
  return static_cast<std::size_t>(it - cluster.cumulative_weights.begin());
}

LoadBalancer::LoadBalancer(const ClusterInfo& cluster)
    : active_(cluster.hosts.size(), 0), current_(cluster.equal_weights ? 0 : cluster.hosts.size(), 0) {}

namespace {

// True when the ejections should be ignored: too few endpoints left (Envoy's panic threshold).
bool Panic(const ClusterInfo& cluster, std::span<const std::shared_ptr<HostHealth>> health) {
  std::size_t ejected = 0;
  for (const auto& h : health) ejected += h->Ejected() ? 1 : 0;
  const std::size_t left = health.size() - ejected;
  return left == 0 || left * 100 < static_cast<std::size_t>(cluster.healthy_panic_threshold) * health.size();
}

}  // namespace

std::optional<std::size_t> LoadBalancer::Pick(const ClusterInfo& cluster, Random& random, const std::uint64_t* hash,
                                              std::span<const std::shared_ptr<HostHealth>> health) {
  auto pick = PickAny(cluster, random, hash);
  if (!pick || health.size() != cluster.hosts.size() || !health[*pick]->Ejected()) return pick;
  // Rare: only while an endpoint is ejected and drawn.
  if (Panic(cluster, health)) return pick;
  const std::size_t n = cluster.hosts.size();
  if (cluster.lb_policy == LbPolicy::kRingHash && hash != nullptr && !cluster.ring.empty()) {
    auto it = std::lower_bound(cluster.ring.begin(), cluster.ring.end(), *hash,
                               [](const ClusterInfo::RingPoint& p, std::uint64_t h) { return p.hash < h; });
    std::size_t at = static_cast<std::size_t>(it - cluster.ring.begin());
    for (std::size_t k = 0; k < cluster.ring.size(); ++k) {
      const auto& point = cluster.ring[(at + k) % cluster.ring.size()];
      if (!health[point.host]->Ejected()) return point.host;
    }
    return pick;
  }
  for (std::size_t attempt = 0; attempt < 2 * n; ++attempt) {
    pick = PickAny(cluster, random, nullptr);
    if (!health[*pick]->Ejected()) return pick;
  }
  const std::size_t start = static_cast<std::size_t>(random.Below(n));
  for (std::size_t k = 0; k < n; ++k) {
    if (!health[(start + k) % n]->Ejected()) return (start + k) % n;
  }
  return pick;
}

std::optional<std::size_t> LoadBalancer::PickAny(const ClusterInfo& cluster, Random& random, const std::uint64_t* hash) {
  const std::size_t n = cluster.hosts.size();
  if (n == 0) return std::nullopt;
  if (cluster.lb_policy == LbPolicy::kRingHash) {
    if (hash == nullptr || cluster.ring.empty()) return WeightedRandom(cluster, random);
    auto it = std::lower_bound(cluster.ring.begin(), cluster.ring.end(), *hash,
                               [](const ClusterInfo::RingPoint& p, std::uint64_t h) { return p.hash < h; });
    if (it == cluster.ring.end()) it = cluster.ring.begin();
    return it->host;
  }
  // Not the cluster this balancer was built for (the owner has not rebuilt it yet): a stateless
  // pick, leaving the state alone since pools hold pointers into active_.
  if (active_.size() != n || current_.size() != (cluster.equal_weights ? 0 : n)) return WeightedRandom(cluster, random);
  if (n == 1) return 0;
  switch (cluster.lb_policy) {
    case LbPolicy::kLeastRequest: return LeastRequest(cluster, random);
    case LbPolicy::kRandom: return WeightedRandom(cluster, random);
    case LbPolicy::kRoundRobin:
    case LbPolicy::kClusterProvided:
    case LbPolicy::kRingHash: break;
  }
  if (!cursor_seeded_) {
    // The first pick decides where this worker starts (not in the constructor, which has no
    // random source), so N workers do not send their first requests to the same endpoint.
    cursor_ = static_cast<std::size_t>(random.Below(n));
    cursor_seeded_ = true;
  }
  return RoundRobin(cluster);
}

std::size_t LoadBalancer::RoundRobin(const ClusterInfo& cluster) {
  const std::size_t n = cluster.hosts.size();
  if (cluster.equal_weights) {
    const std::size_t pick = cursor_;
    cursor_ = cursor_ + 1 == n ? 0 : cursor_ + 1;
    return pick;
  }
  // Smooth weighted round robin (as nginx): every endpoint gains its weight, the largest
  // current value wins and pays the total back. Over `total` picks each endpoint gets exactly
  // its weight, interleaved. O(endpoints) per pick; the scan starts at the cursor so ties do
  // not always favour the first endpoint.
  std::size_t best = cursor_;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (cursor_ + k) % n;
    current_[i] += cluster.hosts[i].weight;
    if (current_[i] > current_[best]) best = i;
  }
  current_[best] -= static_cast<std::int64_t>(cluster.total_weight);
  return best;
}

std::size_t LoadBalancer::LeastRequest(const ClusterInfo& cluster, Random& random) {
  std::size_t best = WeightedRandom(cluster, random);
  for (std::uint32_t c = 1; c < cluster.choice_count; ++c) {
    const std::size_t candidate = WeightedRandom(cluster, random);
    if (active_[candidate] < active_[best]) best = candidate;
  }
  return best;
}

}  // namespace cmesh::upstream
