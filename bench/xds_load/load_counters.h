// Counters every load stream updates (lock-free) and the report reads, plus a small sample of
// error messages so a misbehaving server is described, not only counted.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "response_digest.h"

namespace cmesh::xds_load {

class LoadCounters {
 public:
  std::array<std::atomic<std::uint64_t>, kXdsTypeCount> responses{};
  std::array<std::atomic<std::uint64_t>, kXdsTypeCount> acks{};
  std::array<std::atomic<std::uint64_t>, kXdsTypeCount> nacks{};
  std::atomic<std::uint64_t> resources_received{0};
  std::atomic<std::uint64_t> bytes_received{0};  // serialised DiscoveryResponse bytes
  std::atomic<std::uint64_t> malformed_responses{0};  // unknown type URL or resources that do not decode
  std::atomic<std::uint64_t> writes_failed{0};

  // A stream ended. `expected` when the load tool cancelled it itself.
  void StreamEnded(int grpc_code, const std::string& message, bool expected);
  void Error(const std::string& message);  // keeps the first few messages

  std::uint64_t unexpected_ends() const { return unexpected_ends_.load(); }
  std::map<int, std::uint64_t> end_codes() const;  // unexpected ends by gRPC status code
  std::vector<std::string> error_samples() const;

 private:
  std::atomic<std::uint64_t> unexpected_ends_{0};
  mutable std::mutex mu_;
  std::map<int, std::uint64_t> end_codes_;
  std::vector<std::string> samples_;
};

}  // namespace cmesh::xds_load
