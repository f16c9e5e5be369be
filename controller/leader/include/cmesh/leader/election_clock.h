// The time source of the leader elector, injectable so unit tests can drive the lease protocol
// without waiting for real seconds.
#pragma once

#include <chrono>
#include <stop_token>

namespace cmesh::leader {

class ElectionClock {
 public:
  virtual ~ElectionClock() = default;
  // Monotonic time: how long we have watched a lease stay unchanged is measured on this clock,
  // never by comparing another replica's renewTime with our wall clock.
  virtual std::chrono::steady_clock::time_point Now() = 0;
  // Wall time, only for the acquireTime/renewTime we write into the Lease (for people and tools).
  virtual std::chrono::system_clock::time_point WallNow() = 0;
  // Blocks for `duration` of this clock's time, or until `stop` is requested, whichever is first.
  virtual void Sleep(std::chrono::nanoseconds duration, std::stop_token stop) = 0;
};

// The real clocks; Sleep wakes up at once when a stop is requested.
class SystemElectionClock : public ElectionClock {
 public:
  std::chrono::steady_clock::time_point Now() override;
  std::chrono::system_clock::time_point WallNow() override;
  void Sleep(std::chrono::nanoseconds duration, std::stop_token stop) override;
};

}  // namespace cmesh::leader
