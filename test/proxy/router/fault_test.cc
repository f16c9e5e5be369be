// Fault injection from typed_per_filter_config "envoy.filters.http.fault": percentages, levels,
// the FilterConfig wrapper.
#include <gtest/gtest.h>

#include "route_table_test_util.h"

namespace cmesh::router::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kFaultType[] = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";

std::string Abort(int status, const std::string& percentage) {
  return std::string(R"({"@type": ")") + kFaultType + R"(", "abort": {"httpStatus": )" +
         std::to_string(status) + (percentage.empty() ? "" : R"(, "percentage": )" + percentage) +
         "}}";
}

std::string RouteWithFault(const std::string& fault) {
  return OneHost(R"([{"match": {"prefix": "/"}, "route": {"cluster": "c"},
      "typedPerFilterConfig": {"envoy.filters.http.fault": )" + fault + "}}]");
}

struct Counts {
  int aborts = 0;
  int delays = 0;
};

Counts Tally(const RouteTable& table, int n, std::uint64_t seed, Request r = Get("/")) {
  Random random(seed);
  RequestView view = r.View();
  Counts c;
  for (int i = 0; i < n; ++i) {
    Decision d = table.Decide(view, random);
    c.aborts += d.abort;
    c.delays += d.delay;
  }
  return c;
}

TEST(FaultTest, ZeroPercentNeverHundredAlways) {
  auto never = BuildJson(RouteWithFault(Abort(503, R"({"numerator": 0})")));
  auto always = BuildJson(RouteWithFault(Abort(503, R"({"numerator": 100})")));
  ASSERT_TRUE(never && always);
  EXPECT_EQ(Tally(*never, 5000, 1).aborts, 0);
  EXPECT_EQ(Tally(*always, 5000, 1).aborts, 5000);
  Random random(1);
  Request r = Get("/");
  Decision d = always->Decide(r.View(), random);
  EXPECT_TRUE(d.abort);
  EXPECT_EQ(d.abort_status, 503u);
  EXPECT_EQ(d.kind, Decision::Kind::kCluster);  // the forwarder answers the abort instead
}

TEST(FaultTest, GrpcStatusAbortAnswersHttp200) {
  // Envoy's fault filter: an abort with grpc_status answers HTTP 200 carrying that gRPC status.
  auto t = BuildJson(RouteWithFault(std::string(R"({"@type": ")") + kFaultType +
                                    R"(", "abort": {"grpcStatus": 14, "percentage": {"numerator": 100}}})"));
  ASSERT_TRUE(t);
  Random random(1);
  Request r = Get("/");
  Decision d = t->Decide(r.View(), random);
  EXPECT_TRUE(d.abort);
  EXPECT_EQ(d.abort_status, 200u);
  ASSERT_TRUE(d.abort_grpc_status.has_value());
  EXPECT_EQ(*d.abort_grpc_status, 14u);
  // An HTTP abort carries no gRPC status (the connection manager maps it for gRPC clients).
  auto http = BuildJson(RouteWithFault(Abort(503, R"({"numerator": 100})")));
  ASSERT_TRUE(http);
  EXPECT_FALSE(http->Decide(r.View(), random).abort_grpc_status.has_value());
}

TEST(FaultTest, UnsetPercentageIsZero) {
  // Envoy reads an absent FractionalPercent as 0/100.
  auto t = BuildJson(RouteWithFault(Abort(500, "")));
  ASSERT_TRUE(t);
  EXPECT_EQ(Tally(*t, 2000, 3).aborts, 0);
}

TEST(FaultTest, Denominators) {
  auto hundred = BuildJson(RouteWithFault(Abort(503, R"({"numerator": 50, "denominator": "HUNDRED"})")));
  auto ten_thousand = BuildJson(RouteWithFault(Abort(503, R"({"numerator": 2500, "denominator": "TEN_THOUSAND"})")));
  auto million = BuildJson(RouteWithFault(Abort(503, R"({"numerator": 100000, "denominator": "MILLION"})")));
  ASSERT_TRUE(hundred && ten_thousand && million);
  const int n = 40000;
  EXPECT_NEAR(Tally(*hundred, n, 5).aborts / double(n), 0.50, 0.02);
  EXPECT_NEAR(Tally(*ten_thousand, n, 6).aborts / double(n), 0.25, 0.02);
  EXPECT_NEAR(Tally(*million, n, 7).aborts / double(n), 0.10, 0.02);
}

TEST(FaultTest, FixedDelay) {
  auto t = BuildJson(RouteWithFault(std::string(R"({"@type": ")") + kFaultType +
                                    R"(", "delay": {"fixedDelay": "1.5s", "percentage": {"numerator": 100}}})"));
  ASSERT_TRUE(t);
  Random random(1);
  Request r = Get("/");
  Decision d = t->Decide(r.View(), random);
  EXPECT_TRUE(d.delay);
  EXPECT_EQ(d.delay_duration, 1500ms);
  EXPECT_FALSE(d.abort);
}

TEST(FaultTest, HeadersRestrictTheFault) {
  auto t = BuildJson(RouteWithFault(std::string(R"({"@type": ")") + kFaultType +
                                    R"(", "abort": {"httpStatus": 418, "percentage": {"numerator": 100}},
      "headers": [{"name": "x-chaos", "presentMatch": true}]})"));
  ASSERT_TRUE(t);
  EXPECT_EQ(Tally(*t, 100, 1).aborts, 0);
  Request r = Get("/");
  r.headers = {{"x-chaos", "1"}};
  EXPECT_EQ(Tally(*t, 100, 1, r).aborts, 100);
}

TEST(FaultTest, MostSpecificLevelDecides) {
  const std::string vhost_fault =
      R"("typedPerFilterConfig": {"envoy.filters.http.fault": )" + Abort(500, R"({"numerator": 100})") + "}";
  auto t = BuildJson(OneHost(R"([
      {"match": {"path": "/own"}, "route": {"cluster": "c"},
       "typedPerFilterConfig": {"envoy.filters.http.fault": )" + Abort(502, R"({"numerator": 100})") + R"(}},
      {"match": {"path": "/off"}, "route": {"cluster": "c"},
       "typedPerFilterConfig": {"envoy.filters.http.fault": {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "disabled": true}}},
      {"match": {"path": "/wrapped"}, "route": {"cluster": "c"},
       "typedPerFilterConfig": {"envoy.filters.http.fault": {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig",
                                                              "config": )" + Abort(504, R"({"numerator": 100})") + R"(}}},
      {"match": {"path": "/weighted"}, "route": {"weightedClusters": {"clusters": [{"name": "w", "weight": 1,
       "typedPerFilterConfig": {"envoy.filters.http.fault": )" + Abort(429, R"({"numerator": 100})") + R"(}}]}}},
      {"match": {"prefix": "/"}, "route": {"cluster": "c"}}])", vhost_fault));
  ASSERT_TRUE(t);
  auto status = [&](const char* path) -> std::uint32_t {
    Random random(1);
    Request r = Get(path);
    Decision d = t->Decide(r.View(), random);
    return d.abort ? d.abort_status : 0;
  };
  EXPECT_EQ(status("/own"), 502u);
  EXPECT_EQ(status("/off"), 0u);
  EXPECT_EQ(status("/wrapped"), 504u);
  EXPECT_EQ(status("/weighted"), 429u);
  EXPECT_EQ(status("/inherited"), 500u);
}

TEST(FaultTest, OptionalConfigOfAnotherFilterIsIgnored) {
  auto t = BuildJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"cluster": "c"},
      "typedPerFilterConfig": {"envoy.filters.http.ext_authz": {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig",
                                                            "isOptional": true,
                                                            "config": )" + Abort(500, "") + "}}}]"));
  EXPECT_TRUE(t);
}

}  // namespace
}  // namespace cmesh::router::testing
