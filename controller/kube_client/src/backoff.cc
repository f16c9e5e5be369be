#include "cmesh/kube/backoff.h"

#include <algorithm>

namespace cmesh::kube {

Backoff::Backoff(const BackoffPolicy& policy, std::uint64_t seed) : policy_(policy), random_(seed) {}

std::chrono::milliseconds Backoff::Ceiling(const BackoffPolicy& policy, int n) {
  std::chrono::milliseconds ceiling = policy.initial;
  for (int i = 0; i < n && ceiling < policy.max; ++i) ceiling *= 2;  // stops before it can overflow
  return std::max(std::chrono::milliseconds(0), std::min(ceiling, policy.max));
}

std::chrono::milliseconds Backoff::Next(std::chrono::milliseconds retry_after) {
  std::chrono::milliseconds ceiling = Ceiling(policy_, n_++);
  std::uniform_int_distribution<long long> pick(ceiling.count() / 2, ceiling.count());
  std::chrono::milliseconds delay(pick(random_));
  return std::min(std::max(delay, retry_after), policy_.max);
}

}  // namespace cmesh::kube
