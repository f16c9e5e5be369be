// The moment each stream reached a milestone of the current phase (synced, ACKed the change),
// recorded from gRPC's callback threads and waited for by the main thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace cmesh::xds_load {

using Clock = std::chrono::steady_clock;

class Milestones {
 public:
  // A new phase with `streams` streams; forgets the previous one.
  void Start(std::size_t streams);
  // Stream `index` reached the milestone now; later calls for the same index are ignored.
  void Reach(std::size_t index);
  // Waits until `count` streams have reached it, or `stop()` is true, or the deadline passes;
  // checks `stop` at least every 100 ms. True when `count` was reached.
  template <typename Stop>
  bool WaitFor(std::size_t count, Clock::time_point deadline, Stop stop) {
    std::unique_lock lock(mu_);
    while (reached_ < count) {
      if (Clock::now() >= deadline || stop()) return false;
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
    return true;
  }
  std::size_t reached() const;
  bool Has(std::size_t index) const;
  // Milliseconds from `origin` to each stream's moment, for the streams that reached it.
  std::vector<double> MillisSince(Clock::time_point origin) const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Clock::time_point>> times_;
  std::size_t reached_ = 0;
};

}  // namespace cmesh::xds_load
