#include "cmesh/xds_client/backoff.h"

#include <algorithm>

namespace cmesh::xds_client {

JitteredBackoff::JitteredBackoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
                                 std::function<double()> random)
    : base_(std::max(base, std::chrono::milliseconds(1))),
      max_(std::max(max, base_)),
      random_(std::move(random)) {}

std::chrono::milliseconds JitteredBackoff::NextDelay() {
  // Doubling stops at max; the shift is bounded so it cannot overflow.
  std::int64_t ceiling = base_.count();
  for (int i = 0; i < attempt_ && ceiling < max_.count(); ++i) ceiling *= 2;
  ceiling = std::min<std::int64_t>(ceiling, max_.count());
  ++attempt_;
  double r = std::clamp(random_(), 0.0, 1.0);
  auto half = ceiling / 2;
  auto delay = half + static_cast<std::int64_t>(r * static_cast<double>(ceiling - half));
  return std::chrono::milliseconds(std::clamp<std::int64_t>(delay, 1, max_.count()));
}

}  // namespace cmesh::xds_client
