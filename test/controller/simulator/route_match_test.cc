// Route matching: path matchers, header and query matchers with Envoy's semantics, first match.
#include <gtest/gtest.h>

#include "cmesh/simulator/simulator.h"
#include "simulator_test_util.h"

namespace cmesh::simulator {
namespace {

using envoy::config::route::v3::RouteConfiguration;
using testing::FromJson;
using testing::Get;
using testing::WithHeader;

// One virtual host with a single route `match` → cluster "hit", then a catch-all → "miss".
RouteConfiguration OneRoute(const std::string& match) {
  return FromJson<RouteConfiguration>(
      R"({"name":"80","virtual_hosts":[{"name":"vh","domains":["*"],"routes":[
         {"name":"r","match":)" + match + R"(,"route":{"cluster":"hit"}},
         {"match":{"prefix":"/"},"route":{"cluster":"miss"}}]}]})");
}

bool Hits(const std::string& match, const Request& request) {
  Decision d;
  Simulator::RouteWith(OneRoute(match), request, d);
  EXPECT_EQ(d.outcome, Decision::Outcome::kCluster);
  return d.cluster == "hit";
}

bool Hits(const std::string& match, const std::string& url) { return Hits(match, Get(url)); }

TEST(RouteMatchTest, PrefixMatchesStartOfPath) {
  EXPECT_TRUE(Hits(R"({"prefix":"/api"})", "http://h/api/v1"));
  EXPECT_TRUE(Hits(R"({"prefix":"/api"})", "http://h/apiary"));
  EXPECT_FALSE(Hits(R"({"prefix":"/api"})", "http://h/API"));
  EXPECT_FALSE(Hits(R"({"prefix":"/api"})", "http://h/v1/api"));
}

TEST(RouteMatchTest, ExactPathIgnoresQueryString) {
  EXPECT_TRUE(Hits(R"({"path":"/login"})", "http://h/login"));
  EXPECT_TRUE(Hits(R"({"path":"/login"})", "http://h/login?next=/"));
  EXPECT_FALSE(Hits(R"({"path":"/login"})", "http://h/login/"));
  EXPECT_FALSE(Hits(R"({"path":"/login"})", "http://h/Login"));
}

TEST(RouteMatchTest, CaseInsensitivePathAndPrefix) {
  EXPECT_TRUE(Hits(R"({"path":"/login","case_sensitive":false})", "http://h/LOGIN"));
  EXPECT_TRUE(Hits(R"({"prefix":"/api","case_sensitive":false})", "http://h/ApI/x"));
}

TEST(RouteMatchTest, SafeRegexIsAFullMatchOnThePath) {
  const std::string m = R"({"safe_regex":{"regex":"/users/[0-9]+"}})";
  EXPECT_TRUE(Hits(m, "http://h/users/42"));
  EXPECT_TRUE(Hits(m, "http://h/users/42?x=y"));
  EXPECT_FALSE(Hits(m, "http://h/users/42/profile"));  // no partial match
  EXPECT_FALSE(Hits(m, "http://h/v1/users/42"));
}

TEST(RouteMatchTest, PathSeparatedPrefixStopsAtSegments) {
  const std::string m = R"({"path_separated_prefix":"/api"})";
  EXPECT_TRUE(Hits(m, "http://h/api"));
  EXPECT_TRUE(Hits(m, "http://h/api/x"));
  EXPECT_TRUE(Hits(m, "http://h/api?x"));
  EXPECT_FALSE(Hits(m, "http://h/apiary"));
}

TEST(RouteMatchTest, StringMatchHeaderKinds) {
  auto with = [](const std::string& v) { return WithHeader(Get("http://h/"), "end-user", v); };
  auto header = [](const std::string& sm) {
    return R"({"prefix":"/","headers":[{"name":"end-user","string_match":)" + sm + "}]}";
  };
  EXPECT_TRUE(Hits(header(R"({"exact":"jason"})"), with("jason")));
  EXPECT_FALSE(Hits(header(R"({"exact":"jason"})"), with("Jason")));
  EXPECT_TRUE(Hits(header(R"({"exact":"jason","ignore_case":true})"), with("JASON")));
  EXPECT_TRUE(Hits(header(R"({"prefix":"ja"})"), with("jason")));
  EXPECT_TRUE(Hits(header(R"({"suffix":"son"})"), with("jason")));
  EXPECT_TRUE(Hits(header(R"({"contains":"as"})"), with("jason")));
  EXPECT_TRUE(Hits(header(R"({"safe_regex":{"regex":"j.*n"}})"), with("jason")));
  EXPECT_FALSE(Hits(header(R"({"safe_regex":{"regex":"j.s"}})"), with("jason")));  // full match
  EXPECT_FALSE(Hits(header(R"({"exact":"jason"})"), Get("http://h/")));             // missing
}

TEST(RouteMatchTest, DeprecatedHeaderMatchFieldsStillWork) {
  auto r = WithHeader(Get("http://h/"), "x-v", "abc");
  EXPECT_TRUE(Hits(R"({"prefix":"/","headers":[{"name":"x-v","exact_match":"abc"}]})", r));
  EXPECT_TRUE(Hits(R"({"prefix":"/","headers":[{"name":"x-v","prefix_match":"a"}]})", r));
  EXPECT_TRUE(Hits(R"({"prefix":"/","headers":[{"name":"x-v","safe_regex_match":{"regex":"a.c"}}]})", r));
  EXPECT_FALSE(Hits(R"({"prefix":"/","headers":[{"name":"x-v","suffix_match":"x"}]})", r));
}

TEST(RouteMatchTest, PresentMatch) {
  const std::string present = R"({"prefix":"/","headers":[{"name":"x-debug","present_match":true}]})";
  EXPECT_TRUE(Hits(present, WithHeader(Get("http://h/"), "X-Debug", "")));
  EXPECT_FALSE(Hits(present, Get("http://h/")));
  const std::string absent = R"({"prefix":"/","headers":[{"name":"x-debug","present_match":false}]})";
  EXPECT_TRUE(Hits(absent, Get("http://h/")));
  EXPECT_FALSE(Hits(absent, WithHeader(Get("http://h/"), "x-debug", "1")));
}

TEST(RouteMatchTest, InvertedMatcherNeedsTheHeaderUnlessMissingIsEmpty) {
  // Envoy: a missing header fails every value matcher, inverted or not.
  const std::string inverted =
      R"({"prefix":"/","headers":[{"name":"x-v","string_match":{"exact":"a"},"invert_match":true}]})";
  EXPECT_TRUE(Hits(inverted, WithHeader(Get("http://h/"), "x-v", "b")));
  EXPECT_FALSE(Hits(inverted, WithHeader(Get("http://h/"), "x-v", "a")));
  EXPECT_FALSE(Hits(inverted, Get("http://h/")));
  const std::string as_empty =
      R"({"prefix":"/","headers":[{"name":"x-v","string_match":{"exact":"a"},"invert_match":true,
          "treat_missing_header_as_empty":true}]})";
  EXPECT_TRUE(Hits(as_empty, Get("http://h/")));
  // An inverted presence matcher is "absent".
  const std::string not_present =
      R"({"prefix":"/","headers":[{"name":"x-v","present_match":true,"invert_match":true}]})";
  EXPECT_TRUE(Hits(not_present, Get("http://h/")));
  EXPECT_FALSE(Hits(not_present, WithHeader(Get("http://h/"), "x-v", "1")));
}

TEST(RouteMatchTest, PseudoHeaders) {
  auto header = [](const std::string& name, const std::string& exact) {
    return R"({"prefix":"/","headers":[{"name":")" + name + R"(","string_match":{"exact":")" + exact +
           R"("}}]})";
  };
  Request post = Get("http://reviews:9080/a?b=1");
  post.method = "POST";
  EXPECT_TRUE(Hits(header(":method", "POST"), post));
  EXPECT_FALSE(Hits(header(":method", "GET"), post));
  EXPECT_TRUE(Hits(header(":authority", "reviews:9080"), post));
  EXPECT_TRUE(Hits(header(":scheme", "http"), post));
  EXPECT_TRUE(Hits(header(":path", "/a?b=1"), post));  // :path keeps the query
}

TEST(RouteMatchTest, RepeatedHeadersAreJoinedWithCommas) {
  Request r = WithHeader(WithHeader(Get("http://h/"), "x-a", "1"), "x-a", "2");
  EXPECT_TRUE(Hits(R"({"prefix":"/","headers":[{"name":"x-a","string_match":{"exact":"1,2"}}]})", r));
}

TEST(RouteMatchTest, QueryParameters) {
  const std::string exact =
      R"({"prefix":"/","query_parameters":[{"name":"version","string_match":{"exact":"v2"}}]})";
  EXPECT_TRUE(Hits(exact, "http://h/?version=v2"));
  EXPECT_TRUE(Hits(exact, "http://h/x?a=1&version=v2"));
  EXPECT_FALSE(Hits(exact, "http://h/?version=v3"));
  EXPECT_FALSE(Hits(exact, "http://h/"));
  EXPECT_TRUE(Hits(exact, "http://h/?version=v%32"));  // values are percent-decoded
  const std::string present = R"({"prefix":"/","query_parameters":[{"name":"debug","present_match":true}]})";
  EXPECT_TRUE(Hits(present, "http://h/?debug"));
  EXPECT_FALSE(Hits(present, "http://h/?nodebug=1"));
  const std::string regex =
      R"({"prefix":"/","query_parameters":[{"name":"id","string_match":{"safe_regex":{"regex":"[0-9]+"}}}]})";
  EXPECT_TRUE(Hits(regex, "http://h/?id=123"));
  EXPECT_FALSE(Hits(regex, "http://h/?id=12a"));
}

TEST(RouteMatchTest, AllConditionsOfOneMatchMustHold) {
  const std::string m =
      R"({"prefix":"/api","headers":[{"name":"end-user","string_match":{"exact":"jason"}}],
          "query_parameters":[{"name":"v","present_match":true}]})";
  EXPECT_TRUE(Hits(m, WithHeader(Get("http://h/api?v"), "end-user", "jason")));
  EXPECT_FALSE(Hits(m, WithHeader(Get("http://h/api"), "end-user", "jason")));
  EXPECT_FALSE(Hits(m, WithHeader(Get("http://h/web?v"), "end-user", "jason")));
}

TEST(RouteMatchTest, FirstMatchingRouteWinsAndLaterOnesAreShadowed) {
  auto config = FromJson<RouteConfiguration>(R"({"name":"80","virtual_hosts":[{"name":"vh",
      "domains":["*"],"routes":[
        {"name":"first","match":{"prefix":"/api"},"route":{"cluster":"a"}},
        {"name":"catch-all","match":{"prefix":"/"},"route":{"cluster":"b"}},
        {"name":"shadowed","match":{"path":"/special"},"route":{"cluster":"c"}}]}]})");
  Decision d1, d2, d3;
  Simulator::RouteWith(config, Get("http://h/api/x"), d1);
  Simulator::RouteWith(config, Get("http://h/web"), d2);
  Simulator::RouteWith(config, Get("http://h/special"), d3);
  EXPECT_EQ(d1.cluster, "a");
  EXPECT_EQ(d1.route_index, 0);
  EXPECT_EQ(d1.route_name, "first");
  EXPECT_EQ(d2.cluster, "b");
  EXPECT_EQ(d3.cluster, "b");
  EXPECT_EQ(d3.route_name, "catch-all");
}

TEST(RouteMatchTest, NoMatchingRouteIs404NR) {
  auto config = FromJson<RouteConfiguration>(R"({"name":"80","virtual_hosts":[{"name":"vh",
      "domains":["*"],"routes":[{"match":{"path":"/only"},"route":{"cluster":"a"}}]}]})");
  Decision d;
  Simulator::RouteWith(config, Get("http://h/other"), d);
  EXPECT_EQ(d.outcome, Decision::Outcome::kNoRoute);
  EXPECT_EQ(d.LocalStatus(), 404u);
  EXPECT_EQ(d.virtual_host, "vh");
  EXPECT_EQ(d.route_index, -1);
}

}  // namespace
}  // namespace cmesh::simulator
