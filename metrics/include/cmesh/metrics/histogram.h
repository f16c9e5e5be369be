// One histogram series (one label set). Observe() is lock-free: it bumps one bucket counter and the
// sum. The bounds belong to the family and outlive every series.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "cmesh/metrics/atomic_double.h"

namespace cmesh::metrics {

// What a reader sees of one series: cumulative counts per bound, then the +Inf bucket last (so
// cumulative_counts.size() == bounds.size() + 1 and cumulative_counts.back() is the count).
struct HistogramValue {
  std::vector<uint64_t> cumulative_counts;
  double sum = 0;
  uint64_t Count() const { return cumulative_counts.empty() ? 0 : cumulative_counts.back(); }
};

class Histogram {
 public:
  // `bounds`: strictly increasing finite upper bounds, without +Inf (the registry checks this).
  explicit Histogram(std::span<const double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // A value lands in the first bucket whose bound is >= it (Prometheus' `le`). NaN goes to the +Inf
  // bucket and makes the sum NaN, as Prometheus' own client does: it is counted, not hidden.
  void Observe(double v);

  // Reads every bucket once; the count is derived from the buckets read, so it always equals the
  // +Inf bucket even while other threads observe. The sum may include an observation or two that
  // the buckets do not yet show, which scrapes tolerate.
  HistogramValue Value() const;

  std::span<const double> bounds() const { return bounds_; }

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
  AtomicDouble sum_;
};

}  // namespace cmesh::metrics
