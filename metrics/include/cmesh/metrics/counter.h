// One counter series (one label set). A handle: look it up once through its family, keep the
// reference, and update it from any thread without locks.
#pragma once

#include <atomic>
#include <cstdint>

#include "cmesh/metrics/atomic_double.h"

namespace cmesh::metrics {

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Whole increments take a single wait-free fetch_add, the common case on hot paths.
  void Inc(uint64_t n = 1) { whole_.fetch_add(n, std::memory_order_relaxed); }

  // Fractional amounts (seconds of CPU, bytes as doubles). A counter never goes down, so negative
  // and NaN amounts are dropped rather than corrupting the series.
  void Add(double amount) {
    if (amount > 0) fraction_.Add(amount);
  }

  double Value() const {
    return static_cast<double>(whole_.load(std::memory_order_relaxed)) + fraction_.Load();
  }

 private:
  std::atomic<uint64_t> whole_{0};
  AtomicDouble fraction_;
};

}  // namespace cmesh::metrics
