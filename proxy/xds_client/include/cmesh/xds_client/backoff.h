// Jittered exponential backoff for reconnecting to the control plane. Equal jitter: each delay is
// drawn from [ceiling/2, ceiling), ceiling = min(base * 2^attempt, max). Unlike full jitter it
// never retries at once, which matters when thousands of proxies lose the same pilot together.
#pragma once

#include <chrono>
#include <functional>

namespace cmesh::xds_client {

class JitteredBackoff {
 public:
  // `random` returns a uniform value in [0, 1); tests inject a fixed sequence.
  JitteredBackoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::function<double()> random);

  // The delay before the next attempt; each call doubles the ceiling up to max.
  std::chrono::milliseconds NextDelay();
  // After a healthy stream: the next delay starts again from base.
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::function<double()> random_;
  int attempt_ = 0;
};

}  // namespace cmesh::xds_client
