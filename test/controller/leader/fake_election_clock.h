// A manual clock for leader-election unit tests: time moves only when the test calls Advance, and
// the test can wait until every election thread is parked in Sleep before moving it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

#include "cmesh/leader/election_clock.h"

namespace cmesh::testing {

class FakeElectionClock : public leader::ElectionClock {
 public:
  // Wall time starts at 1800000000 s since the epoch, 2027-01-15T08:00:00Z.
  static constexpr std::chrono::seconds kWallStart{1800000000};

  std::chrono::steady_clock::time_point Now() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::chrono::steady_clock::time_point(std::chrono::hours(1)) + elapsed_;
  }
  std::chrono::system_clock::time_point WallNow() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::chrono::system_clock::time_point(kWallStart) +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(elapsed_);
  }
  void Sleep(std::chrono::nanoseconds duration, std::stop_token stop) override {
    std::unique_lock<std::mutex> lock(mutex_);
    auto deadline = elapsed_ + duration;
    auto it = deadlines_.insert(deadline);
    cv_.notify_all();
    cv_.wait(lock, stop, [&] { return elapsed_ >= deadline; });
    deadlines_.erase(it);
    cv_.notify_all();
  }

  // Time since the clock was made.
  std::chrono::nanoseconds Elapsed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return elapsed_;
  }
  void Advance(std::chrono::nanoseconds duration) {
    std::lock_guard<std::mutex> lock(mutex_);
    elapsed_ += duration;
    cv_.notify_all();
  }
  // Waits (up to 10 real seconds) until exactly `threads` threads sleep towards a deadline that has
  // not come yet, i.e. every election thread has finished what the last Advance woke it for.
  bool WaitForSleepers(int threads) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      int waiting = 0;
      for (auto deadline : deadlines_) waiting += deadline > elapsed_ ? 1 : 0;
      return waiting == threads;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable_any cv_;
  std::chrono::nanoseconds elapsed_{0};
  std::multiset<std::chrono::nanoseconds> deadlines_;
};

}  // namespace cmesh::testing
