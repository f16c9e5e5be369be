#include "load_counters.h"

namespace cmesh::xds_load {
namespace {
constexpr std::size_t kMaxSamples = 10;
}

void LoadCounters::StreamEnded(int grpc_code, const std::string& message, bool expected) {
  if (expected) return;
  ++unexpected_ends_;
  std::lock_guard lock(mu_);
  ++end_codes_[grpc_code];
  if (samples_.size() < kMaxSamples) {
    samples_.push_back("stream ended with status " + std::to_string(grpc_code) + ": " + message);
  }
}

void LoadCounters::Error(const std::string& message) {
  std::lock_guard lock(mu_);
  if (samples_.size() < kMaxSamples) samples_.push_back(message);
}

std::map<int, std::uint64_t> LoadCounters::end_codes() const {
  std::lock_guard lock(mu_);
  return end_codes_;
}

std::vector<std::string> LoadCounters::error_samples() const {
  std::lock_guard lock(mu_);
  return samples_;
}

}  // namespace cmesh::xds_load
