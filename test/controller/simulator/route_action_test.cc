// Reading a matched route's action: weighted clusters, redirect, direct response, and settings.
#include <gtest/gtest.h>

#include "cmesh/simulator/explain.h"
#include "cmesh/simulator/simulator.h"
#include "simulator_test_util.h"

namespace cmesh::simulator {
namespace {

using envoy::config::route::v3::RouteConfiguration;
using testing::FromJson;
using testing::Get;

// A virtual host for "reviews" with the single route `route` (JSON of a Route).
Decision RouteOnce(const std::string& route, const Request& request) {
  auto config = FromJson<RouteConfiguration>(
      R"({"name":"9080","ignore_port_in_host_matching":true,"virtual_hosts":[{"name":"reviews:9080",
         "domains":["reviews"],"routes":[)" + route + "]}]}");
  Decision d;
  Simulator::RouteWith(config, request, d);
  return d;
}

Decision RouteOnce(const std::string& route, const std::string& url = "http://reviews:9080/") {
  return RouteOnce(route, Get(url));
}

TEST(RouteActionTest, WeightedClustersKeepRawWeightsAndComputeShares) {
  auto d = RouteOnce(R"({"match":{"prefix":"/"},"route":{"weighted_clusters":{"clusters":[
      {"name":"outbound|9080|v1|reviews.default.svc.cluster.local","weight":30},
      {"name":"outbound|9080|v2|reviews.default.svc.cluster.local","weight":10}]}}})");
  ASSERT_EQ(d.outcome, Decision::Outcome::kWeightedClusters);
  ASSERT_EQ(d.weighted_clusters.size(), 2u);
  EXPECT_EQ(d.weighted_clusters[0].weight, 30u);
  EXPECT_DOUBLE_EQ(d.weighted_clusters[0].percent, 75.0);
  EXPECT_DOUBLE_EQ(d.weighted_clusters[1].percent, 25.0);
  EXPECT_NE(Explain(Get("http://reviews:9080/"), d).find("75%  outbound|9080|v1|"), std::string::npos);
}

TEST(RouteActionTest, RedirectBuildsEnvoysLocation) {
  // path_redirect keeps the request's authority (with its port) and query.
  auto d = RouteOnce(R"({"match":{"prefix":"/"},"redirect":{"path_redirect":"/v2/reviews"}})",
                     "http://reviews:9080/old?x=1");
  ASSERT_EQ(d.outcome, Decision::Outcome::kRedirect);
  EXPECT_EQ(d.redirect_code, 301u);
  EXPECT_EQ(d.redirect_location, "http://reviews:9080/v2/reviews?x=1");
  EXPECT_EQ(d.LocalStatus(), 301u);

  // A new host drops the old port; port_redirect appends the new one; response_code maps.
  d = RouteOnce(R"({"match":{"prefix":"/"},"redirect":{"host_redirect":"new.example.com",
      "port_redirect":8443,"scheme_redirect":"https","response_code":"FOUND","strip_query":true}})",
                "http://reviews:9080/p?q=1");
  EXPECT_EQ(d.redirect_code, 302u);
  EXPECT_EQ(d.redirect_location, "https://new.example.com:8443/p");

  d = RouteOnce(R"({"match":{"prefix":"/"},"redirect":{"host_redirect":"new.example.com"}})",
                "http://reviews:9080/p");
  EXPECT_EQ(d.redirect_location, "http://new.example.com/p");

  d = RouteOnce(R"({"match":{"prefix":"/old"},"redirect":{"prefix_rewrite":"/new",
      "response_code":"PERMANENT_REDIRECT"}})", "http://reviews:9080/old/page");
  EXPECT_EQ(d.redirect_code, 308u);
  EXPECT_EQ(d.redirect_location, "http://reviews:9080/new/page");
}

TEST(RouteActionTest, DirectResponseWithBody) {
  auto d = RouteOnce(R"({"match":{"prefix":"/"},"direct_response":{"status":503,
      "body":{"inline_string":"maintenance"}}})");
  ASSERT_EQ(d.outcome, Decision::Outcome::kDirectResponse);
  EXPECT_EQ(d.direct_status, 503u);
  EXPECT_EQ(d.direct_body, "maintenance");
  EXPECT_EQ(d.LocalStatus(), 503u);
}

TEST(RouteActionTest, TimeoutRetriesAndDefaults) {
  auto d = RouteOnce(R"({"match":{"prefix":"/"},"route":{"cluster":"c","timeout":"0s",
      "retry_policy":{"retry_on":"connect-failure,refused-stream","num_retries":2,
      "per_try_timeout":"0.5s","retry_host_predicate":[{"name":"envoy.retry_host_predicates.previous_hosts"}],
      "retriable_status_codes":[503]}}})");
  ASSERT_TRUE(d.timeout_ms.has_value());
  EXPECT_EQ(*d.timeout_ms, 0);
  ASSERT_TRUE(d.retry.has_value());
  EXPECT_EQ(d.retry->num_retries, 2u);
  EXPECT_EQ(d.retry->retry_on, "connect-failure,refused-stream");
  EXPECT_EQ(d.retry->per_try_timeout_ms, 500);
  EXPECT_EQ(d.retry->host_predicates, std::vector<std::string>{"envoy.retry_host_predicates.previous_hosts"});
  EXPECT_EQ(d.retry->retriable_status_codes, std::vector<uint32_t>{503});

  auto plain = RouteOnce(R"({"match":{"prefix":"/"},"route":{"cluster":"c"}})");
  EXPECT_FALSE(plain.timeout_ms.has_value());  // Envoy's 15s default applies
  EXPECT_FALSE(plain.retry.has_value());
}

TEST(RouteActionTest, FaultFromTypedPerFilterConfig) {
  auto d = RouteOnce(R"({"match":{"prefix":"/"},"route":{"cluster":"c"},"typed_per_filter_config":{
      "envoy.filters.http.fault":{"@type":"type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
        "delay":{"fixed_delay":"7s","percentage":{"numerator":100000,"denominator":"MILLION"}},
        "abort":{"http_status":500,"percentage":{"numerator":50}}}}})");
  ASSERT_TRUE(d.fault.has_value());
  EXPECT_EQ(d.fault->delay_ms, 7000);
  EXPECT_DOUBLE_EQ(d.fault->delay_percent, 10.0);
  EXPECT_EQ(d.fault->abort_http_status, 500u);
  EXPECT_DOUBLE_EQ(d.fault->abort_percent, 50.0);
}

TEST(RouteActionTest, MirrorsRewritesAndHeaderOperations) {
  auto d = RouteOnce(R"({"match":{"prefix":"/api/"},"route":{"cluster":"c","prefix_rewrite":"/",
      "host_rewrite_literal":"backend.internal",
      "request_mirror_policies":[{"cluster":"mirror-a"},
        {"cluster":"mirror-b","runtime_fraction":{"default_value":{"numerator":25}}}]},
      "request_headers_to_add":[{"header":{"key":"x-added","value":"1"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"}],
      "request_headers_to_remove":["x-secret"],
      "response_headers_to_add":[{"header":{"key":"x-resp","value":"r"},"append":true}]})",
                     "http://reviews:9080/api/items?id=3");
  ASSERT_EQ(d.mirrors.size(), 2u);
  EXPECT_EQ(d.mirrors[0].cluster, "mirror-a");
  EXPECT_DOUBLE_EQ(d.mirrors[0].percent, 100.0);
  EXPECT_DOUBLE_EQ(d.mirrors[1].percent, 25.0);
  EXPECT_EQ(d.prefix_rewrite, "/");
  EXPECT_EQ(d.rewritten_path, "/items?id=3");
  EXPECT_EQ(d.host_rewrite, "backend.internal");
  ASSERT_EQ(d.request_headers.size(), 2u);
  EXPECT_EQ(d.request_headers[0].name, "x-added");
  EXPECT_FALSE(d.request_headers[0].append);
  EXPECT_TRUE(d.request_headers[1].remove);
  ASSERT_EQ(d.response_headers.size(), 1u);
  EXPECT_TRUE(d.response_headers[0].append);
}

TEST(RouteActionTest, RegexRewrite) {
  auto d = RouteOnce(R"({"match":{"prefix":"/"},"route":{"cluster":"c",
      "regex_rewrite":{"pattern":{"regex":"^/v1/(.*)$"},"substitution":"/\\1"}}})",
                     "http://reviews:9080/v1/books");
  EXPECT_EQ(d.rewritten_path, "/books");
}

TEST(RouteActionTest, IstioMetadataNamesTheVirtualService) {
  auto d = RouteOnce(R"({"name":"jason","match":{"prefix":"/"},"route":{"cluster":"c"},
      "metadata":{"filter_metadata":{"istio":{"config":
        "/apis/networking.istio.io/v1/namespaces/bookinfo/virtual-service/reviews"}}}})");
  ASSERT_TRUE(d.config.has_value());
  EXPECT_EQ(d.config->ns, "bookinfo");
  EXPECT_EQ(d.config->name, "reviews");
  EXPECT_EQ(d.config->kind, "virtual-service");
  EXPECT_EQ(d.route_name, "jason");
  std::string text = Explain(Get("http://reviews:9080/"), d);
  EXPECT_NE(text.find("VirtualService:  bookinfo/reviews"), std::string::npos) << text;

  auto plain = RouteOnce(R"({"name":"default","match":{"prefix":"/"},"route":{"cluster":"c"}})");
  EXPECT_FALSE(plain.config.has_value());
  EXPECT_NE(Explain(Get("http://reviews:9080/"), plain).find("default route, no VirtualService"),
            std::string::npos);
}

TEST(RouteActionTest, CorsFromTypedPerFilterConfig) {
  auto d = RouteOnce(R"({"match":{"prefix":"/"},"route":{"cluster":"c"},"typed_per_filter_config":{
      "envoy.filters.http.cors":{"@type":"type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match":[{"exact":"https://a.example"}],"allow_methods":"GET,POST",
        "max_age":"86400","allow_credentials":true}}})");
  ASSERT_TRUE(d.cors.has_value());
  EXPECT_EQ(d.cors->allow_origins, std::vector<std::string>{"exact https://a.example"});
  EXPECT_EQ(d.cors->allow_methods, "GET,POST");
  EXPECT_EQ(d.cors->max_age, "86400");
  EXPECT_EQ(d.cors->allow_credentials, true);
}

}  // namespace
}  // namespace cmesh::simulator
