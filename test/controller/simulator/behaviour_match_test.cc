// Behaviour: VirtualService match conditions, first-match order, catch-all shadowing, and the
// absence of any fallback route.
#include <gtest/gtest.h>

#include "behaviour_mesh.h"

namespace cmesh::behaviour {
namespace {

using simulator::Decision;

// A VirtualService for reviews whose first rule has `match` (YAML flow) and goes to v2; the
// second rule catches everything else and goes to v1.
Mesh WithMatch(const std::string& match) {
  return Mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: )" + match + R"(
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
)");
}

bool ToV2(const Mesh& mesh, const std::string& url, const Headers& headers = {}, const std::string& method = "GET") {
  Decision d = mesh.Send(Productpage(), url, headers, method);
  EXPECT_EQ(d.outcome, Decision::Outcome::kCluster) << url;
  return d.cluster == Cluster(9080, "v2", "reviews.default");
}

TEST(BehaviourMatchTest, UriExact) {
  Mesh mesh = WithMatch("[{uri: {exact: /reviews/1}}]");
  EXPECT_TRUE(ToV2(mesh, "http://reviews:9080/reviews/1"));
  EXPECT_TRUE(ToV2(mesh, "http://reviews:9080/reviews/1?x=y"));  // the query is not part of the path
  EXPECT_FALSE(ToV2(mesh, "http://reviews:9080/reviews/12"));
  EXPECT_FALSE(ToV2(mesh, "http://reviews:9080/Reviews/1"));
}

TEST(BehaviourMatchTest, UriPrefix) {
  Mesh mesh = WithMatch("[{uri: {prefix: /api}}]");
  EXPECT_TRUE(ToV2(mesh, "http://reviews:9080/api"));
  EXPECT_TRUE(ToV2(mesh, "http://reviews:9080/api/v1/x"));
  EXPECT_FALSE(ToV2(mesh, "http://reviews:9080/v1/api"));
}

TEST(BehaviourMatchTest, UriRegexIsAFullMatch) {
  Mesh mesh = WithMatch(R"([{uri: {regex: "/reviews/[0-9]+"}}])");
  EXPECT_TRUE(ToV2(mesh, "http://reviews:9080/reviews/42"));
  EXPECT_FALSE(ToV2(mesh, "http://reviews:9080/reviews/42/x"));
  EXPECT_FALSE(ToV2(mesh, "http://reviews:9080/reviews/abc"));
}

TEST(BehaviourMatchTest, IgnoreUriCase) {
  Mesh exact = WithMatch("[{uri: {exact: /Login}, ignoreUriCase: true}]");
  EXPECT_TRUE(ToV2(exact, "http://reviews:9080/login"));
  EXPECT_TRUE(ToV2(exact, "http://reviews:9080/LOGIN"));
  Mesh prefix = WithMatch("[{uri: {prefix: /API}, ignoreUriCase: true}]");
  EXPECT_TRUE(ToV2(prefix, "http://reviews:9080/api/x"));
  Mesh sensitive = WithMatch("[{uri: {exact: /Login}}]");
  EXPECT_FALSE(ToV2(sensitive, "http://reviews:9080/login"));
}

TEST(BehaviourMatchTest, HeaderExactPrefixRegexAndPresent) {
  Mesh exact = WithMatch("[{headers: {end-user: {exact: jason}}}]");
  EXPECT_TRUE(ToV2(exact, "http://reviews:9080/", {{"end-user", "jason"}}));
  EXPECT_TRUE(ToV2(exact, "http://reviews:9080/", {{"End-User", "jason"}}));  // names are case-insensitive
  EXPECT_FALSE(ToV2(exact, "http://reviews:9080/", {{"end-user", "Jason"}}));  // values are not
  EXPECT_FALSE(ToV2(exact, "http://reviews:9080/"));
  Mesh prefix = WithMatch("[{headers: {x-version: {prefix: beta}}}]");
  EXPECT_TRUE(ToV2(prefix, "http://reviews:9080/", {{"x-version", "beta-2"}}));
  EXPECT_FALSE(ToV2(prefix, "http://reviews:9080/", {{"x-version", "rc-beta"}}));
  Mesh regex = WithMatch(R"([{headers: {cookie: {regex: "^(.*?;)?(user=jason)(;.*)?$"}}}])");
  EXPECT_TRUE(ToV2(regex, "http://reviews:9080/", {{"cookie", "a=1;user=jason;b=2"}}));
  EXPECT_TRUE(ToV2(regex, "http://reviews:9080/", {{"cookie", "user=jason"}}));
  EXPECT_FALSE(ToV2(regex, "http://reviews:9080/", {{"cookie", "user=jasonx"}}));
  Mesh present = WithMatch("[{headers: {x-debug: {}}}]");
  EXPECT_TRUE(ToV2(present, "http://reviews:9080/", {{"x-debug", "anything"}}));
  EXPECT_FALSE(ToV2(present, "http://reviews:9080/"));
}

TEST(BehaviourMatchTest, WithoutHeadersNeedsTheHeaderWithAnotherValue) {
  // Istio turns withoutHeaders into inverted Envoy matchers, which fail on a missing header
  // (istio/istio#50988): only a present header with another value matches.
  Mesh mesh = WithMatch("[{withoutHeaders: {end-user: {exact: jason}}}]");
  EXPECT_TRUE(ToV2(mesh, "http://reviews:9080/", {{"end-user", "mike"}}));
  EXPECT_FALSE(ToV2(mesh, "http://reviews:9080/", {{"end-user", "jason"}}));
  EXPECT_FALSE(ToV2(mesh, "http://reviews:9080/"));
}

TEST(BehaviourMatchTest, QueryParams) {
  Mesh exact = WithMatch("[{queryParams: {version: {exact: v2}}}]");
  EXPECT_TRUE(ToV2(exact, "http://reviews:9080/?version=v2"));
  EXPECT_TRUE(ToV2(exact, "http://reviews:9080/p?a=b&version=v2"));
  EXPECT_FALSE(ToV2(exact, "http://reviews:9080/?version=v3"));
  EXPECT_FALSE(ToV2(exact, "http://reviews:9080/"));
  Mesh regex = WithMatch(R"([{queryParams: {id: {regex: "[0-9]+"}}}])");
  EXPECT_TRUE(ToV2(regex, "http://reviews:9080/?id=17"));
  EXPECT_FALSE(ToV2(regex, "http://reviews:9080/?id=17a"));
}

TEST(BehaviourMatchTest, Method) {
  Mesh mesh = WithMatch("[{method: {exact: POST}}]");
  EXPECT_TRUE(ToV2(mesh, "http://reviews:9080/", {}, "POST"));
  EXPECT_FALSE(ToV2(mesh, "http://reviews:9080/", {}, "GET"));
}

TEST(BehaviourMatchTest, Authority) {
  // :authority carries the port as the client sent it.
  Mesh prefix = WithMatch("[{authority: {prefix: reviews.default}}]");
  EXPECT_TRUE(ToV2(prefix, "http://reviews.default:9080/"));
  EXPECT_FALSE(ToV2(prefix, "http://reviews:9080/"));
  Mesh exact = WithMatch("[{authority: {exact: reviews.default.svc.cluster.local:9080}}]");
  EXPECT_TRUE(ToV2(exact, "http://reviews.default.svc.cluster.local:9080/"));
  EXPECT_FALSE(ToV2(exact, "http://reviews.default:9080/"));
}

TEST(BehaviourMatchTest, Scheme) {
  Mesh http = WithMatch("[{scheme: {exact: http}}]");
  EXPECT_TRUE(ToV2(http, "http://reviews:9080/"));
  Mesh https = WithMatch("[{scheme: {exact: https}}]");
  EXPECT_FALSE(ToV2(https, "http://reviews:9080/"));
}

TEST(BehaviourMatchTest, ConditionsOfOneMatchAreAndedEntriesAreOred) {
  Mesh anded = WithMatch("[{uri: {prefix: /api}, headers: {end-user: {exact: jason}}}]");
  EXPECT_TRUE(ToV2(anded, "http://reviews:9080/api", {{"end-user", "jason"}}));
  EXPECT_FALSE(ToV2(anded, "http://reviews:9080/api"));
  EXPECT_FALSE(ToV2(anded, "http://reviews:9080/web", {{"end-user", "jason"}}));
  Mesh ored = WithMatch("[{uri: {prefix: /a}}, {uri: {prefix: /b}}]");
  EXPECT_TRUE(ToV2(ored, "http://reviews:9080/a"));
  EXPECT_TRUE(ToV2(ored, "http://reviews:9080/b"));
  EXPECT_FALSE(ToV2(ored, "http://reviews:9080/c"));
}

TEST(BehaviourMatchTest, FirstMatchWinsAndACatchAllShadowsLaterRules) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: api
    match: [{uri: {prefix: /api}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - name: everything
    route: [{destination: {host: reviews, subset: v2}}]
  - name: unreachable
    match: [{uri: {prefix: /special}}]
    route: [{destination: {host: reviews, subset: v3}}]
)");
  Decision api = mesh.Send(Productpage(), "http://reviews:9080/api/x");
  EXPECT_EQ(api.cluster, Cluster(9080, "v1", "reviews.default"));
  EXPECT_EQ(api.route_name, "api");
  Decision special = mesh.Send(Productpage(), "http://reviews:9080/special");
  EXPECT_EQ(special.cluster, Cluster(9080, "v2", "reviews.default"));
  EXPECT_EQ(special.route_name, "everything");
}

TEST(BehaviourMatchTest, NoMatchingRuleIs404WithoutFallback) {
  Mesh mesh(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: reviews, subset: v1}}]
)");
  Decision d = mesh.Send(Productpage(), "http://reviews:9080/web");
  EXPECT_EQ(d.outcome, Decision::Outcome::kNoRoute);
  EXPECT_EQ(d.LocalStatus(), 404u);
  EXPECT_EQ(d.virtual_host, "reviews.default.svc.cluster.local:9080");
}

}  // namespace
}  // namespace cmesh::behaviour
