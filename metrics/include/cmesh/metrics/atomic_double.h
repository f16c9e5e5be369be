// A double that threads update without locks: the bits live in an atomic<uint64_t>, which is
// lock-free on every target we build for, unlike std::atomic<double>::fetch_add before C++20 support
// caught up in all standard libraries.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>

namespace cmesh::metrics {

class AtomicDouble {
 public:
  static_assert(std::atomic<uint64_t>::is_always_lock_free, "metrics need lock-free 64-bit atomics");

  AtomicDouble() = default;
  explicit AtomicDouble(double v) : bits_(std::bit_cast<uint64_t>(v)) {}
  AtomicDouble(const AtomicDouble&) = delete;
  AtomicDouble& operator=(const AtomicDouble&) = delete;

  // Relaxed ordering throughout: a metric orders nothing else, it only has to add up.
  double Load() const { return std::bit_cast<double>(bits_.load(std::memory_order_relaxed)); }
  void Store(double v) { bits_.store(std::bit_cast<uint64_t>(v), std::memory_order_relaxed); }

  void Add(double delta) {
    uint64_t old_bits = bits_.load(std::memory_order_relaxed);
    while (!bits_.compare_exchange_weak(
        old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + delta),
        std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
  }

 private:
  std::atomic<uint64_t> bits_{0};  // the bits of +0.0
};

}  // namespace cmesh::metrics
