// The route settings the connection manager's resilience features read: request mirror
// policies (as cmesh's compiler writes a VirtualService's mirror / mirrorPercentage) and the
// route idle timeout, carried by the decision.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "route_table_test_util.h"

namespace cmesh::router {
namespace {

using testing::BuildErrorJson;
using testing::BuildJson;
using testing::Get;
using testing::OneHost;
using ::testing::HasSubstr;

TEST(MirrorPolicyTest, CompilerShapeGivesTheClusterAndTheFraction) {
  // mirror: {host: reviews, subset: v2}, mirrorPercentage: {value: 12.5}: 125000 per million.
  auto table = BuildJson(OneHost(R"([{"match":{"prefix":"/"},"route":{"cluster":"main",
    "requestMirrorPolicies":[{"cluster":"outbound|9080|v2|reviews.default.svc.cluster.local",
      "runtimeFraction":{"defaultValue":{"numerator":125000,"denominator":"MILLION"}},"traceSampled":false}]}}])"));
  Random random(5);
  auto r = Get("/");
  const Decision d = table->Decide(r.View(), random);
  ASSERT_EQ(d.mirrors.size(), 1u);
  EXPECT_EQ(d.mirrors[0].cluster, "outbound|9080|v2|reviews.default.svc.cluster.local");
  EXPECT_EQ(d.mirrors[0].fraction.numerator, 125000u);
  EXPECT_EQ(d.mirrors[0].fraction.denominator, 1000000u);
  // 12.5 % of draws: 5 standard deviations of Binomial(4000, 0.125) is about 105.
  int sampled = 0;
  for (int i = 0; i < 4000; ++i) sampled += d.mirrors[0].fraction.Sample(random) ? 1 : 0;
  EXPECT_NEAR(sampled, 500, 105);
}

TEST(MirrorPolicyTest, WithoutAFractionEveryRequestIsMirrored) {
  auto table = BuildJson(OneHost(R"([{"match":{"prefix":"/"},"route":{"cluster":"main",
    "requestMirrorPolicies":[{"cluster":"a"},{"cluster":"b"}]}}])"));
  Random random(5);
  auto r = Get("/");
  const Decision d = table->Decide(r.View(), random);
  ASSERT_EQ(d.mirrors.size(), 2u);
  EXPECT_EQ(d.mirrors[1].cluster, "b");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(d.mirrors[0].fraction.Sample(random));
}

TEST(MirrorPolicyTest, VirtualHostMirrorsApplyToRoutesWithoutTheirOwn) {
  auto table = BuildJson(OneHost(R"([{"match":{"prefix":"/own"},"route":{"cluster":"main","requestMirrorPolicies":[{"cluster":"own"}]}},
    {"match":{"prefix":"/"},"route":{"cluster":"main"}}])", R"("requestMirrorPolicies":[{"cluster":"vh-mirror"}])"));
  Random random(5);
  auto own = Get("/own");
  auto other = Get("/x");
  const Decision a = table->Decide(own.View(), random);
  const Decision b = table->Decide(other.View(), random);
  ASSERT_EQ(a.mirrors.size(), 1u);
  EXPECT_EQ(a.mirrors[0].cluster, "own");
  ASSERT_EQ(b.mirrors.size(), 1u);
  EXPECT_EQ(b.mirrors[0].cluster, "vh-mirror");
}

TEST(MirrorPolicyTest, AnEmptyClusterIsRefused) {
  EXPECT_THAT(BuildErrorJson(OneHost(R"([{"match":{"prefix":"/"},"route":{"cluster":"main",
    "requestMirrorPolicies":[{"cluster":""}]}}])")),
              HasSubstr("request_mirror_policies[0]"));
}

TEST(RouteIdleTimeoutTest, TheDecisionCarriesIt) {
  auto table = BuildJson(OneHost(R"([{"match":{"prefix":"/idle"},"route":{"cluster":"main","idleTimeout":"0.250s"}},
    {"match":{"prefix":"/off"},"route":{"cluster":"main","idleTimeout":"0s"}},
    {"match":{"prefix":"/"},"route":{"cluster":"main"}}])"));
  Random random(5);
  auto idle = Get("/idle");
  auto off = Get("/off");
  auto none = Get("/");
  const Decision a = table->Decide(idle.View(), random);
  ASSERT_TRUE(a.idle_timeout.has_value());
  EXPECT_EQ(*a.idle_timeout, std::chrono::milliseconds(250));
  const Decision b = table->Decide(off.View(), random);
  ASSERT_TRUE(b.idle_timeout.has_value());  // 0 disables it (Envoy: even over the HCM's)
  EXPECT_EQ(b.idle_timeout->count(), 0);
  EXPECT_FALSE(table->Decide(none.View(), random).idle_timeout.has_value());
}

}  // namespace
}  // namespace cmesh::router
