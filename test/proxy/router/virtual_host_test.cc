// Virtual host selection: Envoy's order (exact, longest suffix wildcard, longest prefix wildcard,
// "*"), case-insensitivity, ports, and wildcards that must match at least one character.
#include <gtest/gtest.h>

#include "route_table_test_util.h"

namespace cmesh::router::testing {
namespace {

std::string Config(bool ignore_port) {
  auto vh = [](const char* name, const char* domains) {
    return std::string(R"({"name": ")") + name + R"(", "domains": )" + domains +
           R"(, "routes": [{"match": {"prefix": "/"}, "route": {"cluster": ")" + name + R"("}}]})";
  };
  return std::string(R"({"name": "80", "ignorePortInHostMatching": )") +
         (ignore_port ? "true" : "false") + R"(, "virtualHosts": [)" +
         vh("exact", R"(["www.example.com", "api.example.com:8080", "[::1]"])") + "," +
         vh("suffix-long", R"(["*.foo.example.com"])") + "," +
         vh("suffix-short", R"(["*.example.com"])") + "," +
         vh("prefix-short", R"(["api.*"])") + "," +
         vh("prefix-long", R"(["api.v2.*"])") + "," + vh("any", R"(["*"])") + "]}";
}

std::string HostFor(const RouteTable& table, const std::string& authority) {
  Random random(1);
  Request r = Get("/", authority);
  Decision d = table.Decide(r.View(), random);
  if (d.kind == Decision::Kind::kNoRoute) return "(none)";
  EXPECT_EQ(d.cluster, d.virtual_host);
  return std::string(d.virtual_host);
}

TEST(VirtualHostTest, ExactBeatsWildcardsAndIgnoresCase) {
  auto table = BuildJson(Config(false));
  ASSERT_TRUE(table);
  EXPECT_EQ(HostFor(*table, "www.example.com"), "exact");
  EXPECT_EQ(HostFor(*table, "WWW.Example.COM"), "exact");
}

TEST(VirtualHostTest, LongestSuffixWildcardWins) {
  auto table = BuildJson(Config(false));
  ASSERT_TRUE(table);
  EXPECT_EQ(HostFor(*table, "a.foo.example.com"), "suffix-long");
  EXPECT_EQ(HostFor(*table, "b.example.com"), "suffix-short");
  // ".foo.example.com" needs one more character before it: "foo.example.com" is only in
  // "*.example.com".
  EXPECT_EQ(HostFor(*table, "foo.example.com"), "suffix-short");
}

TEST(VirtualHostTest, SuffixWildcardBeatsPrefixWildcard) {
  auto table = BuildJson(Config(false));
  ASSERT_TRUE(table);
  EXPECT_EQ(HostFor(*table, "api.example.com"), "suffix-short");  // also matches "api.*"
}

TEST(VirtualHostTest, LongestPrefixWildcardWins) {
  auto table = BuildJson(Config(false));
  ASSERT_TRUE(table);
  EXPECT_EQ(HostFor(*table, "api.v2.internal"), "prefix-long");
  EXPECT_EQ(HostFor(*table, "api.internal"), "prefix-short");
}

TEST(VirtualHostTest, WildcardMustMatchAtLeastOneCharacter) {
  auto table = BuildJson(Config(false));
  ASSERT_TRUE(table);
  EXPECT_EQ(HostFor(*table, ".example.com"), "any");
  EXPECT_EQ(HostFor(*table, "api."), "any");
  EXPECT_EQ(HostFor(*table, "elsewhere"), "any");
}

TEST(VirtualHostTest, PortsMatchLiterallyUnlessIgnored) {
  auto literal = BuildJson(Config(false));
  ASSERT_TRUE(literal);
  EXPECT_EQ(HostFor(*literal, "api.example.com:8080"), "exact");
  // "www.example.com:80" is no listed domain and ends with no listed suffix.
  EXPECT_EQ(HostFor(*literal, "www.example.com:80"), "any");

  auto ignoring = BuildJson(Config(true));
  ASSERT_TRUE(ignoring);
  EXPECT_EQ(HostFor(*ignoring, "www.example.com:80"), "exact");
  EXPECT_EQ(HostFor(*ignoring, "[::1]:9080"), "exact");
  // With the port stripped, "api.example.com:8080" becomes api.example.com, which is not listed
  // without its port: the suffix wildcard takes it.
  EXPECT_EQ(HostFor(*ignoring, "api.example.com:8080"), "suffix-short");
}

TEST(VirtualHostTest, NoVirtualHostIsNoRoute) {
  auto table = BuildJson(R"({"name": "x", "virtualHosts": [{"name": "only", "domains": ["a.b"],
      "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "c"}}]}]})");
  ASSERT_TRUE(table);
  Random random(1);
  Request r = Get("/", "other");
  Decision d = table->Decide(r.View(), random);
  EXPECT_EQ(d.kind, Decision::Kind::kNoRoute);
  EXPECT_EQ(d.status, 404u);
  EXPECT_EQ(d.virtual_host, "");
  r = Get("/", "A.B");
  EXPECT_EQ(table->Decide(r.View(), random).virtual_host, "only");
}

}  // namespace
}  // namespace cmesh::router::testing
