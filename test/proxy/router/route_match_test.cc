// Route matching: path specifiers, case sensitivity, header and query parameter matchers, first
// match wins.
#include <gtest/gtest.h>

#include "route_table_test_util.h"

namespace cmesh::router::testing {
namespace {

// A table whose single route has `match` and goes to cluster "hit".
std::shared_ptr<const RouteTable> OneMatch(const std::string& match) {
  return BuildJson(OneHost(R"([{"match": )" + match + R"(, "route": {"cluster": "hit"}}])"));
}

bool Hits(const RouteTable& table, Request r) {
  Random random(7);
  Decision d = table.Decide(r.View(), random);
  return d.kind == Decision::Kind::kCluster && d.cluster == "hit";
}

Request WithHeaders(std::vector<std::pair<std::string, std::string>> headers,
                    std::string path = "/") {
  Request r = Get(std::move(path));
  r.headers = std::move(headers);
  return r;
}

TEST(RouteMatchTest, Prefix) {
  auto t = OneMatch(R"({"prefix": "/api/"})");
  ASSERT_TRUE(t);
  EXPECT_TRUE(Hits(*t, Get("/api/x")));
  EXPECT_TRUE(Hits(*t, Get("/api/")));
  EXPECT_FALSE(Hits(*t, Get("/api")));
  EXPECT_FALSE(Hits(*t, Get("/API/x")));  // case-sensitive by default
}

TEST(RouteMatchTest, PrefixIgnoresQueryString) {
  auto t = OneMatch(R"({"prefix": "/a?b"})");
  ASSERT_TRUE(t);
  // The query string is not part of the matched path.
  EXPECT_FALSE(Hits(*t, Get("/a?b=1")));
}

TEST(RouteMatchTest, ExactPathWithoutQuery) {
  auto t = OneMatch(R"({"path": "/status"})");
  ASSERT_TRUE(t);
  EXPECT_TRUE(Hits(*t, Get("/status")));
  EXPECT_TRUE(Hits(*t, Get("/status?verbose=1")));
  EXPECT_FALSE(Hits(*t, Get("/status/")));
  EXPECT_FALSE(Hits(*t, Get("/Status")));
}

TEST(RouteMatchTest, CaseInsensitivePrefixAndPath) {
  auto p = OneMatch(R"({"prefix": "/Api", "caseSensitive": false})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(Hits(*p, Get("/aPI/v1")));
  auto e = OneMatch(R"({"path": "/Login", "caseSensitive": false})");
  ASSERT_TRUE(e);
  EXPECT_TRUE(Hits(*e, Get("/LOGIN")));
  EXPECT_FALSE(Hits(*e, Get("/LOGIN/x")));
}

TEST(RouteMatchTest, SafeRegexIsAFullMatchOnThePath) {
  auto t = OneMatch(R"({"safeRegex": {"regex": "/items/[0-9]+"}})");
  ASSERT_TRUE(t);
  EXPECT_TRUE(Hits(*t, Get("/items/42")));
  EXPECT_TRUE(Hits(*t, Get("/items/42?x=y")));
  EXPECT_FALSE(Hits(*t, Get("/items/42/more")));  // not a partial match
  EXPECT_FALSE(Hits(*t, Get("/x/items/42")));
}

TEST(RouteMatchTest, PathSeparatedPrefix) {
  auto t = OneMatch(R"({"pathSeparatedPrefix": "/api"})");
  ASSERT_TRUE(t);
  EXPECT_TRUE(Hits(*t, Get("/api")));
  EXPECT_TRUE(Hits(*t, Get("/api/v1")));
  EXPECT_TRUE(Hits(*t, Get("/api?x")));
  EXPECT_FALSE(Hits(*t, Get("/apiary")));
}

TEST(RouteMatchTest, FirstMatchingRouteWins) {
  auto t = BuildJson(OneHost(R"([
      {"match": {"prefix": "/a/b"}, "route": {"cluster": "first"}},
      {"match": {"prefix": "/a"}, "route": {"cluster": "second"}},
      {"match": {"prefix": "/a/b/c"}, "route": {"cluster": "never"}}])"));
  ASSERT_TRUE(t);
  Random random(1);
  Request r = Get("/a/b/c");
  Decision d = t->Decide(r.View(), random);
  EXPECT_EQ(d.cluster, "first");
  EXPECT_EQ(d.route_index, 0);
  r = Get("/a/x");
  d = t->Decide(r.View(), random);
  EXPECT_EQ(d.cluster, "second");
  EXPECT_EQ(d.route_index, 1);
  r = Get("/b");
  d = t->Decide(r.View(), random);
  EXPECT_EQ(d.kind, Decision::Kind::kNoRoute);
  EXPECT_EQ(d.virtual_host, "vh");  // the host matched, no route did: 404 NR
}

TEST(RouteMatchTest, HeaderStringMatchKinds) {
  auto exact = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-tier", "stringMatch": {"exact": "gold"}}]})");
  auto prefix = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-tier", "stringMatch": {"prefix": "go"}}]})");
  auto suffix = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-tier", "stringMatch": {"suffix": "ld"}}]})");
  auto contains = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-tier", "stringMatch": {"contains": "ol"}}]})");
  auto regex = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-tier", "stringMatch": {"safeRegex": {"regex": "g.l?d"}}}]})");
  auto ic = OneMatch(R"({"prefix": "/", "headers": [{"name": "X-Tier", "stringMatch": {"exact": "GOLD", "ignoreCase": true}}]})");
  ASSERT_TRUE(exact && prefix && suffix && contains && regex && ic);
  EXPECT_TRUE(Hits(*exact, WithHeaders({{"X-TIER", "gold"}})));  // names are case-insensitive
  EXPECT_FALSE(Hits(*exact, WithHeaders({{"x-tier", "Gold"}})));
  EXPECT_FALSE(Hits(*exact, WithHeaders({})));
  EXPECT_TRUE(Hits(*prefix, WithHeaders({{"x-tier", "good"}})));
  EXPECT_FALSE(Hits(*prefix, WithHeaders({{"x-tier", "ego"}})));
  EXPECT_TRUE(Hits(*suffix, WithHeaders({{"x-tier", "mold"}})));
  EXPECT_FALSE(Hits(*suffix, WithHeaders({{"x-tier", "ldx"}})));
  EXPECT_TRUE(Hits(*contains, WithHeaders({{"x-tier", "xoly"}})));
  EXPECT_FALSE(Hits(*contains, WithHeaders({{"x-tier", "lo"}})));
  EXPECT_TRUE(Hits(*regex, WithHeaders({{"x-tier", "gold"}})));
  EXPECT_TRUE(Hits(*regex, WithHeaders({{"x-tier", "gxd"}})));
  EXPECT_FALSE(Hits(*regex, WithHeaders({{"x-tier", "golden"}})));
  EXPECT_TRUE(Hits(*ic, WithHeaders({{"x-tier", "gOlD"}})));
  EXPECT_FALSE(Hits(*ic, WithHeaders({{"x-tier", "silver"}})));
}

TEST(RouteMatchTest, HeaderPresenceAndInversion) {
  auto present = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-debug", "presentMatch": true}]})");
  auto absent = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-debug", "presentMatch": false}]})");
  auto no_spec = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-debug"}]})");
  auto inverted = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-user", "stringMatch": {"exact": "jason"}, "invertMatch": true}]})");
  auto inverted_present = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-debug", "presentMatch": true, "invertMatch": true}]})");
  ASSERT_TRUE(present && absent && no_spec && inverted && inverted_present);
  EXPECT_TRUE(Hits(*present, WithHeaders({{"x-debug", ""}})));
  EXPECT_FALSE(Hits(*present, WithHeaders({})));
  EXPECT_TRUE(Hits(*absent, WithHeaders({})));
  EXPECT_FALSE(Hits(*absent, WithHeaders({{"x-debug", "1"}})));
  EXPECT_TRUE(Hits(*no_spec, WithHeaders({{"x-debug", "1"}})));
  EXPECT_FALSE(Hits(*no_spec, WithHeaders({})));
  EXPECT_TRUE(Hits(*inverted, WithHeaders({{"x-user", "mary"}})));
  EXPECT_FALSE(Hits(*inverted, WithHeaders({{"x-user", "jason"}})));
  // Envoy: an inverted value matcher fails on a missing header.
  EXPECT_FALSE(Hits(*inverted, WithHeaders({})));
  EXPECT_TRUE(Hits(*inverted_present, WithHeaders({})));
  EXPECT_FALSE(Hits(*inverted_present, WithHeaders({{"x-debug", "1"}})));
}

TEST(RouteMatchTest, DeprecatedHeaderFields) {
  auto exact = OneMatch(R"({"prefix": "/", "headers": [{"name": "end-user", "exactMatch": "jason"}]})");
  auto empty_exact = OneMatch(R"({"prefix": "/", "headers": [{"name": "end-user", "exactMatch": ""}]})");
  auto prefix = OneMatch(R"({"prefix": "/", "headers": [{"name": "ua", "prefixMatch": "Mozilla"}]})");
  auto suffix = OneMatch(R"({"prefix": "/", "headers": [{"name": "ua", "suffixMatch": "Safari"}]})");
  auto contains = OneMatch(R"({"prefix": "/", "headers": [{"name": "ua", "containsMatch": "Gecko"}]})");
  auto regex = OneMatch(R"({"prefix": "/", "headers": [{"name": "ua", "safeRegexMatch": {"regex": ".*Chrome/[0-9]+.*"}}]})");
  auto present = OneMatch(R"({"prefix": "/", "headers": [{"name": "ua", "presentMatch": true}]})");
  ASSERT_TRUE(exact && empty_exact && prefix && suffix && contains && regex && present);
  EXPECT_TRUE(Hits(*exact, WithHeaders({{"end-user", "jason"}})));
  EXPECT_FALSE(Hits(*exact, WithHeaders({{"end-user", "jasonx"}})));
  EXPECT_TRUE(Hits(*empty_exact, WithHeaders({{"end-user", "anyone"}})));  // Envoy: any value
  EXPECT_FALSE(Hits(*empty_exact, WithHeaders({})));
  const std::string ua = "Mozilla/5.0 (X11) AppleWebKit Gecko Chrome/120 Safari";
  EXPECT_TRUE(Hits(*prefix, WithHeaders({{"ua", ua}})));
  EXPECT_TRUE(Hits(*suffix, WithHeaders({{"ua", ua}})));
  EXPECT_TRUE(Hits(*contains, WithHeaders({{"ua", ua}})));
  EXPECT_TRUE(Hits(*regex, WithHeaders({{"ua", ua}})));
  EXPECT_FALSE(Hits(*regex, WithHeaders({{"ua", "curl/8"}})));
  EXPECT_FALSE(Hits(*prefix, WithHeaders({{"ua", "curl/8"}})));
  EXPECT_TRUE(Hits(*present, WithHeaders({{"ua", "curl/8"}})));
}

TEST(RouteMatchTest, RangeAndTreatMissingAsEmpty) {
  auto range = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-n", "rangeMatch": {"start": "10", "end": "20"}}]})");
  auto missing_empty = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-e", "stringMatch": {"exact": ""}, "treatMissingHeaderAsEmpty": true}]})");
  ASSERT_TRUE(range && missing_empty);
  EXPECT_TRUE(Hits(*range, WithHeaders({{"x-n", "10"}})));
  EXPECT_TRUE(Hits(*range, WithHeaders({{"x-n", "19"}})));
  EXPECT_FALSE(Hits(*range, WithHeaders({{"x-n", "20"}})));  // half-open
  EXPECT_FALSE(Hits(*range, WithHeaders({{"x-n", "15x"}})));
  EXPECT_TRUE(Hits(*missing_empty, WithHeaders({})));
  EXPECT_FALSE(Hits(*missing_empty, WithHeaders({{"x-e", "v"}})));
}

TEST(RouteMatchTest, RepeatedHeaderMatchesJoinedValues) {
  auto t = OneMatch(R"({"prefix": "/", "headers": [{"name": "x-tag", "stringMatch": {"exact": "a,b"}}]})");
  ASSERT_TRUE(t);
  EXPECT_TRUE(Hits(*t, WithHeaders({{"x-tag", "a"}, {"other", "z"}, {"X-Tag", "b"}})));
  EXPECT_FALSE(Hits(*t, WithHeaders({{"x-tag", "a"}})));
}

TEST(RouteMatchTest, PseudoHeadersComeFromTheRequestLine) {
  auto method = OneMatch(R"({"prefix": "/", "headers": [{"name": ":method", "stringMatch": {"exact": "POST"}}]})");
  auto authority = OneMatch(R"({"prefix": "/", "headers": [{"name": ":authority", "stringMatch": {"prefix": "shop."}}]})");
  auto host = OneMatch(R"({"prefix": "/", "headers": [{"name": "host", "presentMatch": true}]})");
  ASSERT_TRUE(method && authority && host);
  Request post = Get("/");
  post.method = "POST";
  EXPECT_TRUE(Hits(*method, post));
  EXPECT_FALSE(Hits(*method, Get("/")));
  EXPECT_TRUE(Hits(*authority, Get("/", "shop.local")));
  EXPECT_FALSE(Hits(*authority, Get("/", "www.local")));
  // Envoy turns an HTTP/1 Host header into :authority; "host" itself is never present.
  EXPECT_FALSE(Hits(*host, WithHeaders({{"Host", "example.com"}})));
}

TEST(RouteMatchTest, QueryParameters) {
  auto exact = OneMatch(R"({"prefix": "/", "queryParameters": [{"name": "v", "stringMatch": {"exact": "a b"}}]})");
  auto regex = OneMatch(R"({"prefix": "/", "queryParameters": [{"name": "id", "stringMatch": {"safeRegex": {"regex": "[0-9]+"}}}]})");
  auto present = OneMatch(R"({"prefix": "/", "queryParameters": [{"name": "debug", "presentMatch": true}]})");
  auto absent = OneMatch(R"({"prefix": "/", "queryParameters": [{"name": "debug", "presentMatch": false}]})");
  ASSERT_TRUE(exact && regex && present && absent);
  EXPECT_TRUE(Hits(*exact, Get("/p?x=1&v=a%20b")));   // percent-decoded
  EXPECT_TRUE(Hits(*exact, Get("/p?%76=a%20b")));     // the name too
  EXPECT_FALSE(Hits(*exact, Get("/p?v=a+b")));        // '+' is not a space here
  EXPECT_TRUE(Hits(*exact, Get("/p?v=a%20b&v=zz")));  // the first value counts
  EXPECT_FALSE(Hits(*exact, Get("/p?v=zz&v=a%20b")));
  EXPECT_FALSE(Hits(*exact, Get("/p")));
  EXPECT_TRUE(Hits(*regex, Get("/?id=123")));
  EXPECT_FALSE(Hits(*regex, Get("/?id=12a")));
  EXPECT_TRUE(Hits(*present, Get("/?debug")));
  EXPECT_TRUE(Hits(*present, Get("/?a=1&debug=0")));
  EXPECT_FALSE(Hits(*present, Get("/?debugger=1")));
  EXPECT_TRUE(Hits(*absent, Get("/?a=1")));
  EXPECT_FALSE(Hits(*absent, Get("/?debug=1")));
}

TEST(RouteMatchTest, GrpcMatcher) {
  auto t = OneMatch(R"({"prefix": "/", "grpc": {}})");
  ASSERT_TRUE(t);
  EXPECT_TRUE(Hits(*t, WithHeaders({{"content-type", "application/grpc+proto"}})));
  EXPECT_FALSE(Hits(*t, WithHeaders({{"content-type", "application/json"}})));
  EXPECT_FALSE(Hits(*t, WithHeaders({})));
}

TEST(RouteMatchTest, AllConditionsMustHold) {
  auto t = OneMatch(R"({"prefix": "/cart", "headers": [{"name": "a", "presentMatch": true},
      {"name": "b", "stringMatch": {"exact": "2"}}], "queryParameters": [{"name": "q", "presentMatch": true}]})");
  ASSERT_TRUE(t);
  EXPECT_TRUE(Hits(*t, WithHeaders({{"a", "1"}, {"b", "2"}}, "/cart?q")));
  EXPECT_FALSE(Hits(*t, WithHeaders({{"a", "1"}, {"b", "2"}}, "/cart")));
  EXPECT_FALSE(Hits(*t, WithHeaders({{"b", "2"}}, "/cart?q")));
  EXPECT_FALSE(Hits(*t, WithHeaders({{"a", "1"}, {"b", "3"}}, "/cart?q")));
  EXPECT_FALSE(Hits(*t, WithHeaders({{"a", "1"}, {"b", "2"}}, "/car?q")));
}

}  // namespace
}  // namespace cmesh::router::testing
