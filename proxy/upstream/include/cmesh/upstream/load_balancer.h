// One worker's load balancer for one cluster: picks the endpoint (an index into
// ClusterInfo::hosts) for each request. The state (round-robin cursor and current weights,
// active requests per endpoint) belongs to the worker, so nothing is locked or atomic; the
// workers' balancers each make good choices on their own, as Envoy's do.
//
// - ROUND_ROBIN: smooth weighted round robin (each endpoint gets weight/total of the picks,
//   spread out rather than in bursts); equal weights take a plain cursor that starts at a
//   random place, so the workers do not all begin with the first endpoint.
// - LEAST_REQUEST: power of N choices (N = choice_count, 2 by default): N weighted random
//   endpoints, the one with the fewest active requests wins (the first drawn on a tie).
// - RANDOM: weighted random.
// - RING_HASH (and MAGLEV): the ring's first point at or after the request's hash; a request
//   without a hash key goes to a weighted random endpoint, as in Envoy.
//
// Endpoints the outlier detector ejected (`health`, shared by the workers) are skipped: a ring
// goes on to the next point of an endpoint not ejected (what a ring rebuilt without it would
// answer), the other policies pick again. When fewer than healthy_panic_threshold percent of
// the endpoints are left, the ejections are ignored (Envoy's panic mode), and so when all are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "cmesh/upstream/cluster_info.h"
#include "cmesh/upstream/cluster_runtime.h"
#include "cmesh/upstream/random.h"

namespace cmesh::upstream {

class LoadBalancer {
 public:
  // Sized for `cluster`; build a new one when the cluster's endpoints change (handed a cluster
  // of another size, Pick falls back to a stateless weighted random pick).
  explicit LoadBalancer(const ClusterInfo& cluster);

  // The endpoint for the next request, or nullopt when the cluster has none (the caller
  // answers 503 with the "no healthy upstream" flag). ORIGINAL_DST clusters have no hosts: the
  // caller connects to the original destination instead of asking.
  // `hash` (RING_HASH clusters only): the request's hash key; without one, a random endpoint.
  // `health` (by host index, or empty): the shared outlier state, whose ejected hosts are skipped.
  std::optional<std::size_t> Pick(const ClusterInfo& cluster, Random& random, const std::uint64_t* hash = nullptr,
                                  std::span<const std::shared_ptr<HostHealth>> health = {});

  // Active requests per endpoint, kept by the connection pools (see ConnectionPool's load
  // slot): the slot stays valid for the balancer's lifetime.
  std::uint32_t* ActiveSlot(std::size_t index) { return &active_[index]; }
  std::uint32_t active(std::size_t index) const { return active_[index]; }

 private:
  std::optional<std::size_t> PickAny(const ClusterInfo& cluster, Random& random, const std::uint64_t* hash);
  std::size_t RoundRobin(const ClusterInfo& cluster);
  std::size_t LeastRequest(const ClusterInfo& cluster, Random& random);

  std::vector<std::uint32_t> active_;
  std::vector<std::int64_t> current_;  // smooth WRR's current weights (unequal weights only)
  std::size_t cursor_ = 0;
  bool cursor_seeded_ = false;
};

// A weighted random endpoint of a non-empty cluster (uniform when the weights are equal).
std::size_t WeightedRandom(const ClusterInfo& cluster, Random& random);

}  // namespace cmesh::upstream
