// Behaviour: what a matched rule does — weights, redirect, direct response, rewrite, header
// operations, timeout, retries, fault, mirror(s), CORS.
#include <gtest/gtest.h>

#include <algorithm>

#include "behaviour_mesh.h"

namespace cmesh::behaviour {
namespace {

using simulator::Decision;

// A VirtualService for reviews with the single rule `rule` (YAML, indented as a list item body).
Mesh WithRule(const std::string& rule) {
  return Mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - )" + rule + "\n");
}

Decision Get(const Mesh& mesh, const std::string& path = "/") {
  return mesh.Send(Productpage(), "http://reviews:9080" + path);
}

TEST(BehaviourActionsTest, WeightsSplitTraffic) {
  Mesh mesh = WithRule(R"(route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 20})");
  Decision d = Get(mesh);
  EXPECT_EQ(d.outcome, Decision::Outcome::kWeightedClusters);
  EXPECT_EQ(Shares(d), (std::map<std::string, double>{{Cluster(9080, "v1", "reviews.default"), 80},
                                                      {Cluster(9080, "v2", "reviews.default"), 20}}));
}

TEST(BehaviourActionsTest, WeightsNeedNotSumTo100) {
  Mesh mesh = WithRule(R"(route:
    - {destination: {host: reviews, subset: v1}, weight: 30}
    - {destination: {host: reviews, subset: v3}, weight: 10})");
  Decision d = Get(mesh);
  ASSERT_EQ(d.weighted_clusters.size(), 2u);
  EXPECT_EQ(d.weighted_clusters[0].weight, 30u);  // raw weights, not normalised
  EXPECT_EQ(d.weighted_clusters[1].weight, 10u);
  EXPECT_EQ(Shares(d), (std::map<std::string, double>{{Cluster(9080, "v1", "reviews.default"), 75},
                                                      {Cluster(9080, "v3", "reviews.default"), 25}}));
}

TEST(BehaviourActionsTest, WeightZeroDestinationIsDropped) {
  Mesh mesh = WithRule(R"(route:
    - {destination: {host: reviews, subset: v1}, weight: 100}
    - {destination: {host: reviews, subset: v2}, weight: 0})");
  EXPECT_EQ(Shares(Get(mesh)), (std::map<std::string, double>{{Cluster(9080, "v1", "reviews.default"), 100}}));
}

TEST(BehaviourActionsTest, Redirect) {
  Mesh mesh = WithRule(R"(match: [{uri: {prefix: /old}}]
    redirect: {uri: /v1/bookRatings, authority: newratings.default.svc.cluster.local, redirectCode: 302})");
  Decision d = Get(mesh, "/old/page?x=1");
  ASSERT_EQ(d.outcome, Decision::Outcome::kRedirect);
  EXPECT_EQ(d.redirect_code, 302u);
  // The new authority replaces host and port; the query string is kept.
  EXPECT_EQ(d.redirect_location, "http://newratings.default.svc.cluster.local/v1/bookRatings?x=1");
}

TEST(BehaviourActionsTest, RedirectDefaultsTo301AndKeepsTheAuthority) {
  Mesh mesh = WithRule("redirect: {uri: /new}");
  Decision d = Get(mesh, "/anything");
  ASSERT_EQ(d.outcome, Decision::Outcome::kRedirect);
  EXPECT_EQ(d.redirect_code, 301u);
  EXPECT_EQ(d.redirect_location, "http://reviews:9080/new");
}

TEST(BehaviourActionsTest, RedirectSchemeAndPort) {
  Mesh mesh = WithRule("redirect: {scheme: https, port: 8443, authority: secure.example.com}");
  Decision d = Get(mesh, "/p");
  EXPECT_EQ(d.redirect_location, "https://secure.example.com:8443/p");
}

TEST(BehaviourActionsTest, DirectResponse) {
  Mesh mesh = WithRule(R"(directResponse: {status: 503, body: {string: "under maintenance"}})");
  Decision d = Get(mesh);
  ASSERT_EQ(d.outcome, Decision::Outcome::kDirectResponse);
  EXPECT_EQ(d.direct_status, 503u);
  EXPECT_EQ(d.direct_body, "under maintenance");
}

TEST(BehaviourActionsTest, RewriteUriAndAuthority) {
  Mesh mesh = WithRule(R"(match: [{uri: {prefix: /api/}}]
    rewrite: {uri: /v2/, authority: reviews-internal}
    route: [{destination: {host: reviews}}])");
  Decision d = Get(mesh, "/api/items?id=1");
  EXPECT_EQ(d.cluster, Cluster(9080, "", "reviews.default"));
  EXPECT_EQ(d.rewritten_path, "/v2/items?id=1");
  EXPECT_EQ(d.host_rewrite, "reviews-internal");
}

bool HasChange(const std::vector<simulator::HeaderChange>& changes, const std::string& name, const std::string& op,
               const std::string& value = "") {
  return std::any_of(changes.begin(), changes.end(), [&](const simulator::HeaderChange& c) {
    const std::string c_op = c.remove ? "remove" : c.append ? "append" : "set";
    return c.name == name && c_op == op && c.value == value;
  });
}

TEST(BehaviourActionsTest, HeaderOperations) {
  Mesh mesh = WithRule(R"(headers:
      request:
        set: {x-set: "1"}
        add: {x-add: "2"}
        remove: [x-secret]
      response:
        set: {x-served-by: reviews}
        remove: [server]
    route: [{destination: {host: reviews}}])");
  Decision d = Get(mesh);
  EXPECT_TRUE(HasChange(d.request_headers, "x-set", "set", "1"));
  EXPECT_TRUE(HasChange(d.request_headers, "x-add", "append", "2"));
  EXPECT_TRUE(HasChange(d.request_headers, "x-secret", "remove"));
  EXPECT_TRUE(HasChange(d.response_headers, "x-served-by", "set", "reviews"));
  EXPECT_TRUE(HasChange(d.response_headers, "server", "remove"));
}

TEST(BehaviourActionsTest, TimeoutAndRetries) {
  Mesh mesh = WithRule(R"(timeout: 5s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,connect-failure"}
    route: [{destination: {host: reviews}}])");
  Decision d = Get(mesh);
  ASSERT_TRUE(d.timeout_ms.has_value());
  EXPECT_EQ(*d.timeout_ms, 5000);
  ASSERT_TRUE(d.retry.has_value());
  EXPECT_EQ(d.retry->num_retries, 3u);
  EXPECT_EQ(d.retry->per_try_timeout_ms, 2000);
  EXPECT_EQ(d.retry->retry_on, "5xx,connect-failure");
}

TEST(BehaviourActionsTest, ZeroRetryAttemptsDisableRetries) {
  Mesh mesh = WithRule(R"(retries: {attempts: 0}
    route: [{destination: {host: reviews}}])");
  Decision d = Get(mesh);
  EXPECT_TRUE(!d.retry.has_value() || d.retry->num_retries == 0u);
}

TEST(BehaviourActionsTest, RuleWithoutTimeoutOrRetriesGetsIstioDefaults) {
  Mesh mesh = WithRule("route: [{destination: {host: reviews}}]");
  Decision d = Get(mesh);
  ASSERT_TRUE(d.timeout_ms.has_value());
  EXPECT_EQ(*d.timeout_ms, 0);
  ASSERT_TRUE(d.retry.has_value());
  EXPECT_EQ(d.retry->num_retries, 2u);
}

TEST(BehaviourActionsTest, FaultDelayAndAbort) {
  Mesh mesh = WithRule(R"(fault:
      delay: {fixedDelay: 7s, percentage: {value: 10}}
      abort: {httpStatus: 500, percentage: {value: 50}}
    route: [{destination: {host: reviews}}])");
  Decision d = Get(mesh);
  ASSERT_TRUE(d.fault.has_value());
  EXPECT_EQ(d.fault->delay_ms, 7000);
  EXPECT_DOUBLE_EQ(d.fault->delay_percent, 10);
  EXPECT_EQ(d.fault->abort_http_status, 500u);
  EXPECT_DOUBLE_EQ(d.fault->abort_percent, 50);
  EXPECT_EQ(d.cluster, Cluster(9080, "", "reviews.default"));
}

TEST(BehaviourActionsTest, MirrorWithPercentage) {
  Mesh mesh = WithRule(R"(route: [{destination: {host: reviews, subset: v1}}]
    mirror: {host: reviews, subset: v2}
    mirrorPercentage: {value: 25})");
  Decision d = Get(mesh);
  EXPECT_EQ(d.cluster, Cluster(9080, "v1", "reviews.default"));
  ASSERT_EQ(d.mirrors.size(), 1u);
  EXPECT_EQ(d.mirrors[0].cluster, Cluster(9080, "v2", "reviews.default"));
  EXPECT_DOUBLE_EQ(d.mirrors[0].percent, 25);
}

TEST(BehaviourActionsTest, SeveralMirrors) {
  Mesh mesh = WithRule(R"(route: [{destination: {host: reviews, subset: v1}}]
    mirrors:
    - {destination: {host: reviews, subset: v2}, percentage: {value: 50}}
    - {destination: {host: ratings}})");
  Decision d = Get(mesh);
  ASSERT_EQ(d.mirrors.size(), 2u);
  EXPECT_EQ(d.mirrors[0].cluster, Cluster(9080, "v2", "reviews.default"));
  EXPECT_DOUBLE_EQ(d.mirrors[0].percent, 50);
  EXPECT_EQ(d.mirrors[1].cluster, Cluster(9080, "", "ratings.default"));
  EXPECT_DOUBLE_EQ(d.mirrors[1].percent, 100);
}

TEST(BehaviourActionsTest, CorsPolicy) {
  Mesh mesh = WithRule(R"(corsPolicy:
      allowOrigins: [{exact: "https://example.com"}]
      allowMethods: [GET, POST]
      allowCredentials: true
      maxAge: 24h
    route: [{destination: {host: reviews}}])");
  Decision d = Get(mesh);
  ASSERT_TRUE(d.cors.has_value());
  EXPECT_EQ(d.cors->allow_origins, std::vector<std::string>{"exact https://example.com"});
  EXPECT_EQ(d.cors->allow_methods, "GET,POST");
  EXPECT_EQ(d.cors->allow_credentials, true);
  EXPECT_EQ(d.cors->max_age, "86400");
}

}  // namespace
}  // namespace cmesh::behaviour
