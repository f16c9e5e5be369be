#include "cmesh/xds_client/backoff.h"

#include <gtest/gtest.h>

namespace cmesh::xds_client {
namespace {

using std::chrono::milliseconds;

TEST(JitteredBackoff, CeilingDoublesFromBaseToMaxAndEachDelayIsInItsUpperHalf) {
  double r = 0.0;
  JitteredBackoff backoff(milliseconds(500), milliseconds(30'000), [&] { return r; });
  // r = 0 gives the lower end, ceiling/2; r just below 1 the upper end, the ceiling.
  const std::int64_t ceilings[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
  for (std::int64_t ceiling : ceilings) {
    EXPECT_EQ(backoff.NextDelay().count(), ceiling / 2);
  }
  backoff.Reset();
  r = 0.999999;
  for (std::int64_t ceiling : ceilings) {
    auto delay = backoff.NextDelay().count();
    EXPECT_GE(delay, ceiling - 1);
    EXPECT_LE(delay, ceiling);
  }
}

TEST(JitteredBackoff, JitterSpreadsClientsAndResetStartsOver) {
  double r = 0.25;
  JitteredBackoff backoff(milliseconds(1000), milliseconds(60'000), [&] { return r; });
  EXPECT_EQ(backoff.NextDelay().count(), 500 + 125);
  r = 0.75;
  EXPECT_EQ(backoff.NextDelay().count(), 1000 + 750);
  backoff.Reset();
  EXPECT_EQ(backoff.attempt(), 0);
  EXPECT_EQ(backoff.NextDelay().count(), 500 + 375);
}

}  // namespace
}  // namespace cmesh::xds_client
