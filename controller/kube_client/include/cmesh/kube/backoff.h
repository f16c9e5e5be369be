// Jittered exponential backoff between retries of one call.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace cmesh::kube {

struct BackoffPolicy {
  std::chrono::milliseconds initial{250};  // the ceiling of the first delay
  std::chrono::milliseconds max{8000};     // no delay (nor a server's Retry-After) goes above this
  int max_attempts = 6;                    // attempts in all, the first one included
};

// Delay n (0-based) is drawn uniformly from [c/2, c] with c = min(max, initial * 2^n): the
// exponential growth spaces retries out, the jitter keeps many clients from retrying in step
// (e.g. every informer after an apiserver restart).
class Backoff {
 public:
  Backoff(const BackoffPolicy& policy, std::uint64_t seed);

  // The ceiling c of delay n.
  static std::chrono::milliseconds Ceiling(const BackoffPolicy& policy, int n);

  // The next delay; `retry_after` (a server's Retry-After) raises it, up to policy.max.
  std::chrono::milliseconds Next(std::chrono::milliseconds retry_after = std::chrono::milliseconds(0));

  int delays_given() const { return n_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 random_;
  int n_ = 0;
};

}  // namespace cmesh::kube
