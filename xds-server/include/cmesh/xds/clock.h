// Time source injected into the stream state machines, so tests control ACK timestamps and the
// state machines never read a clock themselves.
#pragma once

#include <chrono>

namespace cmesh::xds {

using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The production clock: monotonic, so convergence times survive wall-clock adjustments.
class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace cmesh::xds
