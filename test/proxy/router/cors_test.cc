// CORS from typed_per_filter_config "envoy.filters.http.cors" (Envoy's CorsPolicy, as Istio
// writes a VirtualService's corsPolicy): compiled, resolved over the levels, refused where the
// proxy cannot apply it.
#include <gtest/gtest.h>

#include "route_table_test_util.h"

namespace cmesh::router::testing {
namespace {

constexpr char kCorsType[] = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";

std::string Cors(const std::string& fields) {
  return std::string(R"({"@type": ")") + kCorsType + R"(", )" + fields + "}";
}

// What Istio's compiler writes for corsPolicy {allowOrigins: [exact a.example, regex .*\.b\.example],
// allowMethods: [GET, POST], allowHeaders: [x-a], exposeHeaders: [x-b], maxAge: 24h,
// allowCredentials: true}.
const std::string kIstioCors = Cors(R"("allowOriginStringMatch": [{"exact": "https://a.example"},
    {"safeRegex": {"regex": "https://.*\\.b\\.example"}}], "allowMethods": "GET,POST", "allowHeaders": "x-a",
    "exposeHeaders": "x-b", "maxAge": "86400", "allowCredentials": true,
    "filterEnabled": {"defaultValue": {"numerator": 100, "denominator": "HUNDRED"}})");

TEST(CorsTest, RoutePolicyIsCompiledIntoTheDecision) {
  auto t = BuildJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"cluster": "c"},
      "typedPerFilterConfig": {"envoy.filters.http.cors": )" + kIstioCors + "}}]"));
  ASSERT_TRUE(t);
  Random random(1);
  Request r = Get("/");
  Decision d = t->Decide(r.View(), random);
  ASSERT_NE(d.cors, nullptr);
  EXPECT_TRUE(d.cors->AllowsOrigin("https://a.example"));
  EXPECT_TRUE(d.cors->AllowsOrigin("https://x.b.example"));
  EXPECT_FALSE(d.cors->AllowsOrigin("https://a.example.evil"));  // exact, not prefix
  EXPECT_FALSE(d.cors->AllowsOrigin("https://b.example"));        // the regex wants a subdomain
  EXPECT_EQ(d.cors->allow_methods, "GET,POST");
  EXPECT_EQ(d.cors->allow_headers, "x-a");
  EXPECT_EQ(d.cors->expose_headers, "x-b");
  EXPECT_EQ(d.cors->max_age, "86400");
  EXPECT_EQ(d.cors->allow_credentials, true);
  EXPECT_EQ(d.cors->enabled.numerator, 100u);
  EXPECT_TRUE(d.cors->forward_not_matching_preflights);
}

TEST(CorsTest, MostSpecificLevelWinsAndDisablingWorks) {
  auto t = BuildJson(OneHost(R"([
      {"match": {"prefix": "/inherit"}, "route": {"cluster": "c"}},
      {"match": {"prefix": "/off"}, "route": {"cluster": "c"},
       "typedPerFilterConfig": {"envoy.filters.http.cors": {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "disabled": true}}},
      {"match": {"prefix": "/"}, "route": {"cluster": "c"}}])",
                             R"("typedPerFilterConfig": {"envoy.filters.http.cors": )" +
                                 Cors(R"("allowOriginStringMatch": [{"exact": "https://vh.example"}])") + "}"));
  ASSERT_TRUE(t);
  Random random(1);
  Request inherit = Get("/inherit");
  const Decision d = t->Decide(inherit.View(), random);
  ASSERT_NE(d.cors, nullptr);
  EXPECT_TRUE(d.cors->AllowsOrigin("https://vh.example"));
  Request off = Get("/off");
  EXPECT_EQ(t->Decide(off.View(), random).cors, nullptr);
}

TEST(CorsTest, WhatCannotBeHonouredIsRefused) {
  EXPECT_NE(BuildErrorJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"cluster": "c"},
      "typedPerFilterConfig": {"envoy.filters.http.cors": )" +
                                   Cors(R"("allowPrivateNetworkAccess": true)") + "}}]"))
                .find("allow_private_network_access is not implemented"),
            std::string::npos);
  EXPECT_NE(BuildErrorJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"weightedClusters": {"clusters": [
      {"name": "c", "weight": 1, "typedPerFilterConfig": {"envoy.filters.http.cors": )" + kIstioCors + "}}]}}}]"))
                .find("envoy.filters.http.cors at this level"),
            std::string::npos);
}

}  // namespace
}  // namespace cmesh::router::testing
