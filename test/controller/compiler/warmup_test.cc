// loadBalancer.warmup and the deprecated warmupDurationSecs → Envoy slow start. Expected values
// follow Istio's setWarmup/setSlowStartConfig: slow_start_window is the duration, aggression a
// RuntimeDouble defaulting to 1.0 (linear), min_weight_percent defaulting to 10; only ROUND_ROBIN
// and LEAST_REQUEST (LEAST_CONN is its deprecated alias) have slow start.
#include <gtest/gtest.h>

#include <algorithm>

#include "compiler_test_util.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::config::cluster::v3::Cluster;
constexpr char kClientNode[] = "sidecar~10.0.0.5~client-1.default~default.svc.cluster.local";

std::string Dr(const std::string& host, const std::string& lb) {
  return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: " + host +
         "\n  namespace: default\nspec:\n  host: " + host + "\n  trafficPolicy:\n    loadBalancer:\n" + lb + "---\n";
}

std::string Name(const std::string& host) { return "outbound|80||" + host + ".default.svc.cluster.local"; }

bool HasWarning(const XdsResources& r, const std::string& needle) {
  return std::any_of(r.warnings.begin(), r.warnings.end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

TEST(WarmupTest, RoundRobinWithAllFields) {
  auto r = CompileFor(ParseYaml(ServiceYaml("a", "default", {"http:80"}) +
                                Dr("a", "      simple: ROUND_ROBIN\n      warmup:\n        duration: 90s\n"
                                        "        minimumPercent: 25\n        aggression: 2.5\n")),
                      kClientNode);
  const Cluster* c = FindCluster(r, Name("a"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->lb_policy(), Cluster::ROUND_ROBIN);
  ASSERT_TRUE(c->has_round_robin_lb_config());
  const auto& ss = c->round_robin_lb_config().slow_start_config();
  EXPECT_EQ(ss.slow_start_window().seconds(), 90);
  EXPECT_DOUBLE_EQ(ss.aggression().default_value(), 2.5);
  EXPECT_FALSE(ss.aggression().runtime_key().empty());  // Envoy requires one
  EXPECT_DOUBLE_EQ(ss.min_weight_percent().value(), 25.0);
  EXPECT_FALSE(HasWarning(r, "warmup"));
}

TEST(WarmupTest, LeastRequestDefaultsAreIstios) {
  // Only the duration: aggression 1.0 (linear ramp) and 10% minimum weight, written explicitly.
  auto r = CompileFor(ParseYaml(ServiceYaml("a", "default", {"http:80"}) +
                                Dr("a", "      simple: LEAST_REQUEST\n      warmup:\n        duration: 30s\n")),
                      kClientNode);
  const Cluster* c = FindCluster(r, Name("a"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->lb_policy(), Cluster::LEAST_REQUEST);
  ASSERT_TRUE(c->has_least_request_lb_config());
  const auto& ss = c->least_request_lb_config().slow_start_config();
  EXPECT_EQ(ss.slow_start_window().seconds(), 30);
  EXPECT_DOUBLE_EQ(ss.aggression().default_value(), 1.0);
  EXPECT_DOUBLE_EQ(ss.min_weight_percent().value(), 10.0);
}

TEST(WarmupTest, DeprecatedWarmupDurationSecsSetsTheWindowOnly) {
  auto r = CompileFor(ParseYaml(ServiceYaml("a", "default", {"http:80"}) + ServiceYaml("b", "default", {"http:80"}) +
                                Dr("a", "      simple: LEAST_CONN\n      warmupDurationSecs: 45s\n") +
                                Dr("b", "      warmupDurationSecs: 20s\n")),
                      kClientNode);
  const Cluster* a = FindCluster(r, Name("a"));
  ASSERT_TRUE(a->has_least_request_lb_config());
  EXPECT_EQ(a->least_request_lb_config().slow_start_config().slow_start_window().seconds(), 45);
  EXPECT_FALSE(a->least_request_lb_config().slow_start_config().has_aggression());
  EXPECT_FALSE(a->least_request_lb_config().slow_start_config().has_min_weight_percent());
  // No `simple`: the mesh default policy (ROUND_ROBIN in cmesh) gets the slow start.
  const Cluster* b = FindCluster(r, Name("b"));
  EXPECT_EQ(b->lb_policy(), Cluster::ROUND_ROBIN);
  EXPECT_EQ(b->round_robin_lb_config().slow_start_config().slow_start_window().seconds(), 20);
}

TEST(WarmupTest, WarmupWinsOverTheDeprecatedField) {
  auto r = CompileFor(ParseYaml(ServiceYaml("a", "default", {"http:80"}) +
                                Dr("a", "      simple: ROUND_ROBIN\n      warmupDurationSecs: 5s\n"
                                        "      warmup:\n        duration: 60s\n")),
                      kClientNode);
  EXPECT_EQ(FindCluster(r, Name("a"))->round_robin_lb_config().slow_start_config().slow_start_window().seconds(), 60);
}

TEST(WarmupTest, OtherPoliciesHaveNoSlowStartAndSaySo) {
  auto r = CompileFor(
      ParseYaml(ServiceYaml("a", "default", {"http:80"}) + ServiceYaml("b", "default", {"http:80"}) +
                ServiceYaml("c", "default", {"http:80"}) +
                Dr("a", "      simple: RANDOM\n      warmup:\n        duration: 60s\n") +
                Dr("b", "      consistentHash:\n        httpHeaderName: x-user\n      warmupDurationSecs: 60s\n") +
                Dr("c", "      simple: PASSTHROUGH\n      warmup:\n        duration: 60s\n")),
      kClientNode);
  const Cluster* a = FindCluster(r, Name("a"));
  EXPECT_EQ(a->lb_policy(), Cluster::RANDOM);
  EXPECT_FALSE(a->has_round_robin_lb_config());
  EXPECT_FALSE(a->has_least_request_lb_config());
  const Cluster* b = FindCluster(r, Name("b"));
  EXPECT_EQ(b->lb_policy(), Cluster::RING_HASH);
  EXPECT_TRUE(b->has_ring_hash_lb_config());  // not replaced by a slow start config
  const Cluster* c = FindCluster(r, Name("c"));
  EXPECT_EQ(c->type(), Cluster::ORIGINAL_DST);
  EXPECT_FALSE(c->has_round_robin_lb_config());
  EXPECT_TRUE(HasWarning(r, "cluster " + Name("a") + " (DestinationRule default/a): loadBalancer warmup only applies"));
  EXPECT_TRUE(HasWarning(r, "cluster " + Name("b") + " (DestinationRule default/b): loadBalancer warmup only applies"));
  EXPECT_TRUE(HasWarning(r, "cluster " + Name("c") + " (DestinationRule default/c): loadBalancer warmup has no effect"));
  EXPECT_FALSE(HasWarning(r, "not supported yet"));
}

TEST(WarmupTest, SubsetPolicyGetsItsOwnSlowStart) {
  auto r = CompileFor(
      ParseYaml(ServiceYaml("a", "default", {"http:80"}) +
                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: a\n  namespace: default\n"
                "spec:\n  host: a\n  subsets:\n  - name: v1\n    labels: {version: v1}\n    trafficPolicy:\n"
                "      loadBalancer:\n        simple: LEAST_REQUEST\n        warmup: {duration: 15s}\n---\n"),
      kClientNode);
  EXPECT_FALSE(FindCluster(r, Name("a"))->has_least_request_lb_config());
  const Cluster* v1 = FindCluster(r, "outbound|80|v1|a.default.svc.cluster.local");
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->least_request_lb_config().slow_start_config().slow_start_window().seconds(), 15);
}

}  // namespace
}  // namespace cmesh::compiler::testing
