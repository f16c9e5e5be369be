// Route actions: weighted choice, redirects, direct responses, rewrites, timeouts, retries,
// mirrors.
#include <gtest/gtest.h>

#include <map>

#include "route_table_test_util.h"

namespace cmesh::router::testing {
namespace {

using namespace std::chrono_literals;

Decision DecideOnce(const RouteTable& table, Request r, std::uint64_t seed = 3) {
  Random random(seed);
  return table.Decide(r.View(), random);
}

std::map<std::string, int> Draw(const RouteTable& table, int n, std::uint64_t seed) {
  Random random(seed);
  Request r = Get("/");
  RequestView view = r.View();
  std::map<std::string, int> counts;
  for (int i = 0; i < n; ++i) counts[std::string(table.Decide(view, random).cluster)]++;
  return counts;
}

TEST(WeightedClustersTest, SplitFollowsTheWeights) {
  auto t = BuildJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"weightedClusters": {"clusters": [
      {"name": "v1", "weight": 9}, {"name": "v2", "weight": 1}]}}}])"));
  ASSERT_TRUE(t);
  const int n = 100000;
  auto counts = Draw(*t, n, 42);
  EXPECT_EQ(counts.size(), 2u);
  // 10 % expected; the standard deviation of the share is about 0.1 %, the tolerance 1 %.
  EXPECT_NEAR(counts["v2"] / double(n), 0.10, 0.01);
  EXPECT_NEAR(counts["v1"] / double(n), 0.90, 0.01);
}

TEST(WeightedClustersTest, WeightsNeedNotAddUpTo100AndZeroIsNeverChosen) {
  auto t = BuildJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"weightedClusters": {"clusters": [
      {"name": "a", "weight": 1}, {"name": "never", "weight": 0}, {"name": "b", "weight": 2},
      {"name": "c", "weight": 3}]}}}])"));
  ASSERT_TRUE(t);
  const int n = 60000;
  auto counts = Draw(*t, n, 9);
  EXPECT_EQ(counts.count("never"), 0u);
  EXPECT_NEAR(counts["a"] / double(n), 1.0 / 6, 0.015);
  EXPECT_NEAR(counts["b"] / double(n), 2.0 / 6, 0.015);
  EXPECT_NEAR(counts["c"] / double(n), 3.0 / 6, 0.015);
}

TEST(WeightedClustersTest, SameSeedSameChoices) {
  auto t = BuildJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"weightedClusters": {"clusters": [
      {"name": "x", "weight": 50}, {"name": "y", "weight": 50}]}}}])"));
  ASSERT_TRUE(t);
  EXPECT_EQ(Draw(*t, 1000, 5), Draw(*t, 1000, 5));
}

TEST(RandomTest, DifferentSeedsDiffer) {
  Random a(1), b(2);
  int same = 0;
  for (int i = 0; i < 100; ++i) same += a.Next() == b.Next();
  EXPECT_LT(same, 2);
}

std::shared_ptr<const RouteTable> Redirect(const std::string& match, const std::string& redirect) {
  return BuildJson(OneHost(R"([{"match": )" + match + R"(, "redirect": )" + redirect + "}]"));
}

TEST(RedirectTest, PathRedirectKeepsHostPortAndQuery) {
  auto t = Redirect(R"({"path": "/legacy/stock"})", R"({"pathRedirect": "/v2/stock"})");
  ASSERT_TRUE(t);
  Decision d = DecideOnce(*t, Get("/legacy/stock?x=1", "inventory:9080"));
  EXPECT_EQ(d.kind, Decision::Kind::kRedirect);
  EXPECT_EQ(d.status, 301u);
  EXPECT_EQ(d.location, "http://inventory:9080/v2/stock?x=1");
}

TEST(RedirectTest, HttpsRedirectDropsTheOldDefaultPort) {
  auto t = Redirect(R"({"prefix": "/"})", R"({"httpsRedirect": true})");
  ASSERT_TRUE(t);
  EXPECT_EQ(DecideOnce(*t, Get("/a?b", "a.com:80")).location, "https://a.com/a?b");
  EXPECT_EQ(DecideOnce(*t, Get("/a", "a.com:8080")).location, "https://a.com:8080/a");
  Request https = Get("/p", "a.com:443");
  https.scheme = "https";
  auto to_http = Redirect(R"({"prefix": "/"})", R"({"schemeRedirect": "http"})");
  ASSERT_TRUE(to_http);
  EXPECT_EQ(DecideOnce(*to_http, https).location, "http://a.com/p");
}

TEST(RedirectTest, SchemeHostPortAndCode) {
  auto t = Redirect(R"({"prefix": "/"})",
                    R"({"schemeRedirect": "https", "hostRedirect": "b.com", "portRedirect": 8443, "responseCode": "FOUND"})");
  ASSERT_TRUE(t);
  Decision d = DecideOnce(*t, Get("/x?q", "a.com:80"));
  EXPECT_EQ(d.status, 302u);
  EXPECT_EQ(d.location, "https://b.com:8443/x?q");
  auto port_only = Redirect(R"({"prefix": "/"})", R"({"portRedirect": 9000})");
  ASSERT_TRUE(port_only);
  EXPECT_EQ(DecideOnce(*port_only, Get("/", "a.com:80")).location, "http://a.com:9000/");
}

TEST(RedirectTest, ResponseCodes) {
  const std::pair<const char*, std::uint32_t> cases[] = {{"MOVED_PERMANENTLY", 301},
                                                         {"SEE_OTHER", 303},
                                                         {"TEMPORARY_REDIRECT", 307},
                                                         {"PERMANENT_REDIRECT", 308}};
  for (const auto& [code, status] : cases) {
    auto t = Redirect(R"({"prefix": "/"})",
                      std::string(R"({"pathRedirect": "/x", "responseCode": ")") + code + "\"}");
    ASSERT_TRUE(t);
    EXPECT_EQ(DecideOnce(*t, Get("/")).status, status) << code;
  }
}

TEST(RedirectTest, PrefixRewriteReplacesTheMatchedPrefix) {
  auto t = Redirect(R"({"prefix": "/old/"})", R"({"prefixRewrite": "/new/"})");
  ASSERT_TRUE(t);
  EXPECT_EQ(DecideOnce(*t, Get("/old/a/b?c=1")).location, "http://example.com/new/a/b?c=1");
}

TEST(RedirectTest, StripQuery) {
  auto keep = Redirect(R"({"prefix": "/"})", R"({"hostRedirect": "h", "stripQuery": true})");
  auto path = Redirect(R"({"prefix": "/"})", R"({"pathRedirect": "/p", "stripQuery": true})");
  auto own_query = Redirect(R"({"prefix": "/"})", R"({"pathRedirect": "/p?k=v", "stripQuery": true})");
  auto prefix = Redirect(R"({"prefix": "/a"})", R"({"prefixRewrite": "/b", "stripQuery": true})");
  ASSERT_TRUE(keep && path && own_query && prefix);
  EXPECT_EQ(DecideOnce(*keep, Get("/x?y=1")).location, "http://h/x");
  EXPECT_EQ(DecideOnce(*path, Get("/x?y=1")).location, "http://example.com/p");
  EXPECT_EQ(DecideOnce(*own_query, Get("/x?y=1")).location, "http://example.com/p?k=v");
  EXPECT_EQ(DecideOnce(*prefix, Get("/a/z?y=1")).location, "http://example.com/b/z");
}

TEST(RedirectTest, RegexRewrite) {
  auto t = Redirect(R"({"prefix": "/items/"})",
                    R"({"regexRewrite": {"pattern": {"regex": "^/items/([0-9]+)$"}, "substitution": "/v2/item/\\1"}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(DecideOnce(*t, Get("/items/7?z")).location, "http://example.com/v2/item/7?z");
}

TEST(DirectResponseTest, StatusAndBody) {
  auto t = BuildJson(OneHost(R"([
      {"match": {"path": "/down"}, "directResponse": {"status": 503, "body": {"inlineString": "nope"}}},
      {"match": {"path": "/empty"}, "directResponse": {"status": 204}}])"));
  ASSERT_TRUE(t);
  Decision d = DecideOnce(*t, Get("/down"));
  EXPECT_EQ(d.kind, Decision::Kind::kDirectResponse);
  EXPECT_EQ(d.status, 503u);
  EXPECT_EQ(d.body, "nope");
  d = DecideOnce(*t, Get("/empty"));
  EXPECT_EQ(d.status, 204u);
  EXPECT_EQ(d.body, "");
}

std::shared_ptr<const RouteTable> Action(const std::string& match, const std::string& action,
                                         const std::string& vhost_extra = "") {
  return BuildJson(OneHost(R"([{"match": )" + match + R"(, "route": )" + action + "}]", vhost_extra));
}

TEST(RewriteTest, PrefixRewrite) {
  auto t = Action(R"({"prefix": "/beta/"})", R"({"cluster": "c", "prefixRewrite": "/"})");
  ASSERT_TRUE(t);
  EXPECT_EQ(DecideOnce(*t, Get("/beta/list?x=1")).path_rewrite, "/list?x=1");
  auto ci = Action(R"({"prefix": "/Beta", "caseSensitive": false})", R"({"cluster": "c", "prefixRewrite": "/v2"})");
  ASSERT_TRUE(ci);
  EXPECT_EQ(DecideOnce(*ci, Get("/BETA/x")).path_rewrite, "/v2/x");
  auto exact = Action(R"({"path": "/a"})", R"({"cluster": "c", "prefixRewrite": "/b"})");
  ASSERT_TRUE(exact);
  EXPECT_EQ(DecideOnce(*exact, Get("/a?q")).path_rewrite, "/b?q");
  auto none = Action(R"({"prefix": "/"})", R"({"cluster": "c"})");
  ASSERT_TRUE(none);
  EXPECT_EQ(DecideOnce(*none, Get("/a")).path_rewrite, "");
}

TEST(RewriteTest, RegexRewriteKeepsTheQuery) {
  auto t = Action(R"({"prefix": "/service/"})",
                  R"({"cluster": "c", "regexRewrite": {"pattern": {"regex": "^/service/([^/]+)(/.*)$"}, "substitution": "\\2/instance/\\1"}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(DecideOnce(*t, Get("/service/foo/v1/api?x")).path_rewrite, "/v1/api/instance/foo?x");
}

TEST(RewriteTest, HostRewriteLiteral) {
  auto t = Action(R"({"prefix": "/"})", R"({"cluster": "c", "hostRewriteLiteral": "upstream.local"})");
  ASSERT_TRUE(t);
  EXPECT_EQ(DecideOnce(*t, Get("/")).host_rewrite, "upstream.local");
  auto weighted = Action(R"({"prefix": "/"})", R"({"hostRewriteLiteral": "route.local", "weightedClusters": {"clusters": [
      {"name": "own", "weight": 1, "hostRewriteLiteral": "own.local"}, {"name": "inherits", "weight": 0}]}})");
  ASSERT_TRUE(weighted);
  EXPECT_EQ(DecideOnce(*weighted, Get("/")).host_rewrite, "own.local");
}

TEST(TimeoutTest, DefaultZeroAndExplicit) {
  auto unset = Action(R"({"prefix": "/"})", R"({"cluster": "c"})");
  auto zero = Action(R"({"prefix": "/"})", R"({"cluster": "c", "timeout": "0s"})");
  auto two = Action(R"({"prefix": "/"})", R"({"cluster": "c", "timeout": "2s", "idleTimeout": "30s",
      "maxStreamDuration": {"maxStreamDuration": "2.500s", "grpcTimeoutHeaderMax": "2s"}})");
  ASSERT_TRUE(unset && zero && two);
  Decision d = DecideOnce(*unset, Get("/"));
  EXPECT_EQ(d.timeout, 15s);  // Envoy's default
  EXPECT_FALSE(d.idle_timeout);
  EXPECT_EQ(d.max_stream_duration, 0ms);
  EXPECT_EQ(DecideOnce(*zero, Get("/")).timeout, 0ms);
  d = DecideOnce(*two, Get("/"));
  EXPECT_EQ(d.timeout, 2s);
  EXPECT_EQ(d.idle_timeout, 30s);
  EXPECT_EQ(d.max_stream_duration, 2500ms);
}

TEST(RetryTest, PolicyIsParsed) {
  auto t = Action(R"({"prefix": "/"})", R"({"cluster": "c", "retryPolicy": {
      "retryOn": "5xx, reset,connect-failure,retriable-status-codes", "numRetries": 3,
      "perTryTimeout": "0.500s", "retriableStatusCodes": [409],
      "retryHostPredicate": [{"name": "envoy.retry_host_predicates.previous_hosts"}],
      "hostSelectionRetryMaxAttempts": "5", "retryBackOff": {"baseInterval": "0.1s", "maxInterval": "1s"}}})");
  ASSERT_TRUE(t);
  Decision d = DecideOnce(*t, Get("/"));
  ASSERT_NE(d.retry, nullptr);
  EXPECT_EQ(d.retry->retry_on,
            kRetryOn5xx | kRetryOnReset | kRetryOnConnectFailure | kRetryOnRetriableStatusCodes);
  EXPECT_EQ(d.retry->num_retries, 3u);
  EXPECT_EQ(d.retry->per_try_timeout, 500ms);
  EXPECT_TRUE(d.retry->previous_hosts);
  EXPECT_EQ(d.retry->host_selection_max_attempts, 5u);
  EXPECT_EQ(d.retry->backoff_base, 100ms);
  EXPECT_EQ(d.retry->backoff_max, 1000ms);
  EXPECT_TRUE(d.retry->RetriableStatus(503));
  EXPECT_TRUE(d.retry->RetriableStatus(409));
  EXPECT_FALSE(d.retry->RetriableStatus(404));
}

TEST(RetryTest, DefaultsAndVirtualHostFallback) {
  const std::string vhost_retry = R"("retryPolicy": {"retryOn": "gateway-error"})";
  auto own = Action(R"({"prefix": "/"})", R"({"cluster": "c", "retryPolicy": {"retryOn": "connect-failure"}})", vhost_retry);
  auto inherited = Action(R"({"prefix": "/"})", R"({"cluster": "c"})", vhost_retry);
  auto none = Action(R"({"prefix": "/"})", R"({"cluster": "c"})");
  ASSERT_TRUE(own && inherited && none);
  Decision d = DecideOnce(*own, Get("/"));
  ASSERT_NE(d.retry, nullptr);
  EXPECT_EQ(d.retry->retry_on, kRetryOnConnectFailure);  // replaces the virtual host's
  EXPECT_EQ(d.retry->num_retries, 1u);                   // Envoy's default
  EXPECT_FALSE(d.retry->per_try_timeout);
  EXPECT_FALSE(d.retry->RetriableStatus(503));
  d = DecideOnce(*inherited, Get("/"));
  ASSERT_NE(d.retry, nullptr);
  EXPECT_EQ(d.retry->retry_on, kRetryOnGatewayError);
  EXPECT_TRUE(d.retry->RetriableStatus(504));
  EXPECT_FALSE(d.retry->RetriableStatus(500));
  EXPECT_EQ(DecideOnce(*none, Get("/")).retry, nullptr);
}

TEST(ClusterActionTest, NotFoundCodeAttemptCountAndMirrors) {
  auto t = Action(R"({"prefix": "/"})", R"({"cluster": "c", "clusterNotFoundResponseCode": "NOT_FOUND",
      "requestMirrorPolicies": [{"cluster": "shadow", "runtimeFraction": {"defaultValue": {"numerator": 0}}},
                                {"cluster": "always"}]})",
                  R"("includeRequestAttemptCount": true)");
  ASSERT_TRUE(t);
  Decision d = DecideOnce(*t, Get("/"));
  EXPECT_EQ(d.cluster_not_found_status, 404u);
  EXPECT_TRUE(d.include_request_attempt_count);
  EXPECT_FALSE(d.include_attempt_count_in_response);
  ASSERT_EQ(d.mirrors.size(), 2u);
  EXPECT_EQ(d.mirrors[0].cluster, "shadow");
  EXPECT_EQ(d.mirrors[1].cluster, "always");
  Random random(11);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(d.mirrors[0].fraction.Sample(random));
    EXPECT_TRUE(d.mirrors[1].fraction.Sample(random));
  }
}

// Istio's consistentHash, as the compiler writes it: one hash policy per route.
TEST(RouteActionTest, HashPoliciesReachTheDecision) {
  auto t = BuildJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"cluster": "c", "hashPolicy": [
      {"header": {"headerName": "End-User"}},
      {"cookie": {"name": "session", "ttl": "3600s", "path": "/"}, "terminal": true},
      {"connectionProperties": {"sourceIp": true}},
      {"queryParameter": {"name": "user"}}]}}])"));
  ASSERT_TRUE(t);
  Random random(1);
  Request r = Get("/");
  const Decision d = t->Decide(r.View(), random);
  ASSERT_EQ(d.hash_policies.size(), 4u);
  EXPECT_EQ(d.hash_policies[0].kind, HashPolicy::Kind::kHeader);
  EXPECT_EQ(d.hash_policies[0].name, "end-user");  // header names compare in lower case
  EXPECT_EQ(d.hash_policies[1].kind, HashPolicy::Kind::kCookie);
  EXPECT_EQ(d.hash_policies[1].cookie_ttl, std::chrono::seconds(3600));
  EXPECT_EQ(d.hash_policies[1].cookie_path, "/");
  EXPECT_TRUE(d.hash_policies[1].terminal);
  EXPECT_EQ(d.hash_policies[2].kind, HashPolicy::Kind::kSourceIp);
  EXPECT_EQ(d.hash_policies[3].kind, HashPolicy::Kind::kQueryParameter);
  EXPECT_NE(BuildErrorJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"cluster": "c", "hashPolicy": [
      {"filterState": {"key": "k"}}]}}])")).find("hash_policy[0]"), std::string::npos);
}

}  // namespace
}  // namespace cmesh::router::testing
