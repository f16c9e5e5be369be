#include "cmesh/metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace cmesh::metrics {

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double v) {
  std::size_t bucket = bounds_.size();  // +Inf, also for NaN, which compares false with every bound
  if (!std::isnan(v)) {
    bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                      bounds_.begin());
  }
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.Add(v);
}

HistogramValue Histogram::Value() const {
  HistogramValue out;
  out.cumulative_counts.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out.cumulative_counts[i] = running;
  }
  out.sum = sum_.Load();
  return out;
}

}  // namespace cmesh::metrics
