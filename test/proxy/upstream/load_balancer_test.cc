#include "cmesh/upstream/load_balancer.h"

#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cmesh::upstream {
namespace {

// A cluster built the way BuildCluster fills it (cumulative weights only when they differ).
ClusterInfo MakeCluster(LbPolicy policy, const std::vector<std::uint32_t>& weights) {
  ClusterInfo c;
  c.name = "c";
  c.lb_policy = policy;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    c.hosts.push_back(Host{{"10.0.0." + std::to_string(i + 1), 80}, weights[i]});
    if (weights[i] != weights[0]) c.equal_weights = false;
  }
  for (auto w : weights) {
    sum += w;
    if (!c.equal_weights) c.cumulative_weights.push_back(sum);
  }
  c.total_weight = sum;
  return c;
}

std::vector<int> Counts(LoadBalancer& lb, const ClusterInfo& c, Random& random, int picks) {
  std::vector<int> counts(c.hosts.size(), 0);
  for (int i = 0; i < picks; ++i) {
    auto pick = lb.Pick(c, random);
    EXPECT_TRUE(pick.has_value());
    if (pick) ++counts.at(*pick);
  }
  return counts;
}

TEST(LoadBalancerTest, RingHashKeepsAKeyOnOneEndpointAndSpreadsKeys) {
  envoy::config::cluster::v3::Cluster proto;
  proto.set_name("c");
  proto.set_type(envoy::config::cluster::v3::Cluster::EDS);
  proto.set_lb_policy(envoy::config::cluster::v3::Cluster::RING_HASH);
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  auto* locality = cla.add_endpoints();
  for (int i = 1; i <= 4; ++i) {
    auto* a = locality->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
    a->set_address("10.0.0." + std::to_string(i));
    a->set_port_value(80);
  }
  std::string error;
  auto cluster = BuildCluster(proto, &cla, &error);
  ASSERT_NE(cluster, nullptr) << error;
  LoadBalancer lb(*cluster);
  Random random(7);
  std::map<std::size_t, int> users_per_host;
  for (int user = 0; user < 200; ++user) {
    const std::uint64_t key = HashKey("user-" + std::to_string(user));
    const auto first = lb.Pick(*cluster, random, &key);
    ASSERT_TRUE(first);
    for (int again = 0; again < 5; ++again) EXPECT_EQ(lb.Pick(*cluster, random, &key), first);  // sticky
    ++users_per_host[*first];
  }
  // 200 keys over 4 equal endpoints: each gets some, none gets nearly all.
  ASSERT_EQ(users_per_host.size(), 4u);
  for (const auto& [host, users] : users_per_host) EXPECT_LT(users, 120) << host;
  // A request without a hash key still gets an endpoint.
  EXPECT_TRUE(lb.Pick(*cluster, random, nullptr));
}

TEST(LoadBalancerTest, EmptyClusterHasNoEndpoint) {
  Random random(1);
  for (LbPolicy policy : {LbPolicy::kRoundRobin, LbPolicy::kLeastRequest, LbPolicy::kRandom}) {
    const ClusterInfo c = MakeCluster(policy, {});
    LoadBalancer lb(c);
    EXPECT_FALSE(lb.Pick(c, random).has_value());
  }
}

TEST(LoadBalancerTest, RoundRobinCyclesThroughEqualEndpoints) {
  const ClusterInfo c = MakeCluster(LbPolicy::kRoundRobin, {1, 1, 1, 1});
  LoadBalancer lb(c);
  Random random(7);
  const std::size_t first = *lb.Pick(c, random);
  for (int i = 1; i < 40; ++i) {
    EXPECT_EQ(*lb.Pick(c, random), (first + i) % 4) << "pick " << i;
  }
}

TEST(LoadBalancerTest, RoundRobinWorkersStartAtRandomPlaces) {
  const ClusterInfo c = MakeCluster(LbPolicy::kRoundRobin, std::vector<std::uint32_t>(10, 1));
  std::map<std::size_t, int> firsts;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    LoadBalancer lb(c);
    Random random(seed);
    ++firsts[*lb.Pick(c, random)];
  }
  // 20 workers all starting on the same endpoint would happen with probability 10^-19.
  EXPECT_GT(firsts.size(), 1u);
}

TEST(LoadBalancerTest, SmoothWeightedRoundRobinGivesExactSharesPerCycle) {
  const ClusterInfo c = MakeCluster(LbPolicy::kRoundRobin, {5, 1, 1});
  LoadBalancer lb(c);
  Random random(3);
  // Every block of total-weight (7) picks holds each endpoint exactly its weight, and the
  // heavy one is interleaved: never more than 5 in a row even across blocks.
  int run = 0;
  std::size_t last = 99;
  for (int cycle = 0; cycle < 20; ++cycle) {
    std::vector<int> counts(3, 0);
    for (int i = 0; i < 7; ++i) {
      const std::size_t pick = *lb.Pick(c, random);
      ++counts[pick];
      run = pick == last ? run + 1 : 1;
      last = pick;
      EXPECT_LE(run, 4);
    }
    EXPECT_THAT(counts, ::testing::ElementsAre(5, 1, 1)) << "cycle " << cycle;
  }
}

TEST(LoadBalancerTest, RandomIsUniformWithEqualWeights) {
  const ClusterInfo c = MakeCluster(LbPolicy::kRandom, {1, 1, 1, 1});
  LoadBalancer lb(c);
  Random random(11);
  const auto counts = Counts(lb, c, random, 40000);
  for (int n : counts) EXPECT_NEAR(n / 40000.0, 0.25, 0.02);  // sd 0.002
}

TEST(LoadBalancerTest, RandomRespectsWeights) {
  const ClusterInfo c = MakeCluster(LbPolicy::kRandom, {1, 3, 6});
  LoadBalancer lb(c);
  Random random(12);
  const auto counts = Counts(lb, c, random, 50000);
  EXPECT_NEAR(counts[0] / 50000.0, 0.1, 0.02);
  EXPECT_NEAR(counts[1] / 50000.0, 0.3, 0.02);
  EXPECT_NEAR(counts[2] / 50000.0, 0.6, 0.02);
}

TEST(LoadBalancerTest, LeastRequestSpreadsEvenlyWhenLoadsAreEqual) {
  const ClusterInfo c = MakeCluster(LbPolicy::kLeastRequest, {1, 1, 1});
  LoadBalancer lb(c);
  Random random(13);
  const auto counts = Counts(lb, c, random, 30000);
  for (int n : counts) EXPECT_NEAR(n / 30000.0, 1.0 / 3, 0.03);
}

TEST(LoadBalancerTest, LeastRequestPrefersTheLessLoaded) {
  ClusterInfo c = MakeCluster(LbPolicy::kLeastRequest, {1, 1, 1, 1});
  LoadBalancer lb(c);
  for (std::size_t i = 0; i < 3; ++i) *lb.ActiveSlot(i) = 5;  // endpoint 3 is idle
  Random random(14);
  auto counts = Counts(lb, c, random, 40000);
  // Two uniform draws miss endpoint 3 with probability (3/4)^2, so it wins 7/16 of the picks
  // (a plain random choice would give it 1/4).
  EXPECT_NEAR(counts[3] / 40000.0, 7.0 / 16, 0.03);

  // Four choices miss it with probability (3/4)^4: it wins 175/256.
  c.choice_count = 4;
  counts = Counts(lb, c, random, 40000);
  EXPECT_NEAR(counts[3] / 40000.0, 175.0 / 256, 0.03);
}

TEST(LoadBalancerTest, LeastRequestDrawsByWeight) {
  // Equal loads: the draws decide, and they follow the weights (1:3).
  const ClusterInfo c = MakeCluster(LbPolicy::kLeastRequest, {1, 3});
  LoadBalancer lb(c);
  Random random(15);
  const auto counts = Counts(lb, c, random, 40000);
  // On a tie the first draw wins, so the share is simply the weight's: 1/4.
  EXPECT_NEAR(counts[0] / 40000.0, 0.25, 0.02);
}

TEST(LoadBalancerTest, AClusterOfAnotherSizeGetsAStatelessPick) {
  const ClusterInfo built_for = MakeCluster(LbPolicy::kRoundRobin, {1, 1});
  const ClusterInfo bigger = MakeCluster(LbPolicy::kRoundRobin, {1, 1, 1, 1, 1});
  LoadBalancer lb(built_for);
  Random random(16);
  std::vector<int> seen(5, 0);
  for (int i = 0; i < 500; ++i) ++seen.at(*lb.Pick(bigger, random));
  for (int n : seen) EXPECT_GT(n, 0);  // all five reachable, none out of range (at() throws)
}

}  // namespace
}  // namespace cmesh::upstream
