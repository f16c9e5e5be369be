// Envoy's virtual host selection: exact, longest suffix wildcard, longest prefix wildcard, "*".
#include <gtest/gtest.h>

#include "cmesh/simulator/simulator.h"
#include "simulator_test_util.h"

namespace cmesh::simulator {
namespace {

using envoy::config::route::v3::RouteConfiguration;
using testing::FromJson;
using testing::Get;

// Each virtual host sends everything to a cluster named after itself.
RouteConfiguration Config(bool ignore_port) {
  std::string vhosts;
  auto vh = [&](const std::string& name, const std::string& domains) {
    if (!vhosts.empty()) vhosts += ",";
    vhosts += R"({"name":")" + name + R"(","domains":[)" + domains +
              R"(],"routes":[{"match":{"prefix":"/"},"route":{"cluster":")" + name + R"("}}]})";
  };
  vh("exact", R"("reviews.default.svc.cluster.local","reviews","api.example.com")");
  vh("suffix-short", R"("*.example.com")");
  vh("suffix-long", R"("*.api.example.com")");
  vh("prefix-short", R"("api*")");
  vh("prefix-long", R"("api.internal*")");
  vh("any", R"("*")");
  return FromJson<RouteConfiguration>(R"({"name":"9080","ignore_port_in_host_matching":)" +
                                      std::string(ignore_port ? "true" : "false") +
                                      R"(,"virtual_hosts":[)" + vhosts + "]}");
}

std::string VirtualHostFor(const RouteConfiguration& config, const std::string& url) {
  Decision d;
  Simulator::RouteWith(config, Get(url), d);
  return d.virtual_host;
}

TEST(VirtualHostTest, ExactDomainBeatsEveryWildcard) {
  auto config = Config(true);
  EXPECT_EQ(VirtualHostFor(config, "http://api.example.com/"), "exact");
  EXPECT_EQ(VirtualHostFor(config, "http://reviews/"), "exact");
}

TEST(VirtualHostTest, LongestSuffixWildcardWins) {
  auto config = Config(true);
  EXPECT_EQ(VirtualHostFor(config, "http://v1.api.example.com/"), "suffix-long");
  EXPECT_EQ(VirtualHostFor(config, "http://www.example.com/"), "suffix-short");
}

TEST(VirtualHostTest, SuffixWildcardBeatsPrefixWildcard) {
  // "api.x.example.com" fits both "*.example.com" and "api*"; the suffix form wins.
  EXPECT_EQ(VirtualHostFor(Config(true), "http://api.x.example.com/"), "suffix-short");
}

TEST(VirtualHostTest, LongestPrefixWildcardWinsAmongPrefixes) {
  auto config = Config(true);
  EXPECT_EQ(VirtualHostFor(config, "http://api.internal.corp/"), "prefix-long");
  EXPECT_EQ(VirtualHostFor(config, "http://apiserver/"), "prefix-short");
}

TEST(VirtualHostTest, WildcardNeedsAtLeastOneCharacter) {
  // "example.com" is not covered by "*.example.com", nor "api" by "api*".
  auto config = Config(true);
  EXPECT_EQ(VirtualHostFor(config, "http://example.com/"), "any");
}

TEST(VirtualHostTest, CatchAllTakesUnknownHosts) {
  EXPECT_EQ(VirtualHostFor(Config(true), "http://unknown.svc/"), "any");
}

TEST(VirtualHostTest, HostMatchingIsCaseInsensitive) {
  auto request = testing::WithHeader(Get("http://x/"), "Host", "API.Example.COM");
  Decision d;
  Simulator::RouteWith(Config(true), request, d);
  EXPECT_EQ(d.virtual_host, "exact");
}

TEST(VirtualHostTest, PortIsStrippedOnlyWhenConfigIgnoresIt) {
  EXPECT_EQ(VirtualHostFor(Config(true), "http://reviews:9080/"), "exact");
  // Without ignore_port_in_host_matching, "reviews:9080" is not the domain "reviews".
  EXPECT_EQ(VirtualHostFor(Config(false), "http://reviews:9080/"), "any");
}

TEST(VirtualHostTest, NoVirtualHostIsA404) {
  auto config = FromJson<RouteConfiguration>(
      R"({"name":"80","virtual_hosts":[{"name":"a","domains":["a"],"routes":[]}]})");
  Decision d;
  Simulator::RouteWith(config, Get("http://b/"), d);
  EXPECT_EQ(d.outcome, Decision::Outcome::kNoVirtualHost);
  EXPECT_EQ(d.LocalStatus(), 404u);
}

}  // namespace
}  // namespace cmesh::simulator
