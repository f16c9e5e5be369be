#include <condition_variable>
#include <mutex>

#include "cmesh/leader/election_clock.h"

namespace cmesh::leader {

std::chrono::steady_clock::time_point SystemElectionClock::Now() { return std::chrono::steady_clock::now(); }

std::chrono::system_clock::time_point SystemElectionClock::WallNow() { return std::chrono::system_clock::now(); }

void SystemElectionClock::Sleep(std::chrono::nanoseconds duration, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mutex);
  // Nothing notifies cv but the stop request, so the predicate is only "stop requested".
  cv.wait_for(lock, stop, duration, [] { return false; });
}

}  // namespace cmesh::leader
