#include "cmesh/kube/backoff.h"

#include <set>

#include <gtest/gtest.h>

namespace cmesh::kube {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesUpToTheMaximum) {
  BackoffPolicy policy{milliseconds(100), milliseconds(1000), 10};
  EXPECT_EQ(Backoff::Ceiling(policy, 0), milliseconds(100));
  EXPECT_EQ(Backoff::Ceiling(policy, 1), milliseconds(200));
  EXPECT_EQ(Backoff::Ceiling(policy, 2), milliseconds(400));
  EXPECT_EQ(Backoff::Ceiling(policy, 3), milliseconds(800));
  EXPECT_EQ(Backoff::Ceiling(policy, 4), milliseconds(1000));
  EXPECT_EQ(Backoff::Ceiling(policy, 1000), milliseconds(1000));  // no overflow after many doublings
}

TEST(Backoff, EveryDelayLiesBetweenHalfTheCeilingAndTheCeiling) {
  BackoffPolicy policy{milliseconds(100), milliseconds(1000), 10};
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Backoff backoff(policy, seed);
    for (int n = 0; n < 8; ++n) {
      milliseconds ceiling = Backoff::Ceiling(policy, n);
      milliseconds delay = backoff.Next();
      EXPECT_GE(delay, ceiling / 2) << "seed " << seed << " delay " << n;
      EXPECT_LE(delay, ceiling) << "seed " << seed << " delay " << n;
    }
  }
}

TEST(Backoff, DelaysAreJittered) {
  // 200 clients retrying at once must not all wait the same time.
  BackoffPolicy policy{milliseconds(1000), milliseconds(8000), 10};
  std::set<long long> first_delays;
  for (std::uint64_t seed = 0; seed < 200; ++seed) first_delays.insert(Backoff(policy, seed).Next().count());
  EXPECT_GT(first_delays.size(), 50u);
}

TEST(Backoff, RetryAfterRaisesTheDelayButNotAboveTheMaximum) {
  BackoffPolicy policy{milliseconds(100), milliseconds(5000), 10};
  Backoff backoff(policy, 1);
  EXPECT_EQ(backoff.Next(milliseconds(3000)), milliseconds(3000));  // first ceiling is 100 ms
  EXPECT_EQ(backoff.Next(milliseconds(60000)), milliseconds(5000));
  EXPECT_EQ(backoff.delays_given(), 2);
}

}  // namespace
}  // namespace cmesh::kube
