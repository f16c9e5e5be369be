// A small per-worker pseudo-random generator (xoshiro256**, seeded through splitmix64). Each worker
// owns one: no global state, no locks. Not for cryptography.
#pragma once

#include <cstdint>

namespace cmesh::router {

class Random {
 public:
  explicit Random(std::uint64_t seed);
  std::uint64_t Next();

 private:
  std::uint64_t s_[4];
};

}  // namespace cmesh::router
