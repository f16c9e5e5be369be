// RDS structure: route configs per HTTP port, virtual host names and domains, default route,
// catch-all virtual host.
#include <gtest/gtest.h>

#include "compiler_test_util.h"

namespace cmesh::compiler::testing {
namespace {

std::vector<std::string> Domains(const envoy::config::route::v3::VirtualHost& vh) {
  return {vh.domains().begin(), vh.domains().end()};
}

std::string Mesh() {
  return ServiceYaml("reviews", "default", {"http:9080"}, "10.96.0.10") +
         ServiceYaml("db", "default", {"tcp:5432"}, "10.96.0.11") +
         ServiceYaml("web", "shop", {"http-web:80", "http2-api:9090"}, "10.96.0.12");
}

TEST(RouteTest, OneRouteConfigPerOutboundHttpPort) {
  auto r = CompileFor(ParseYaml(Mesh()), "sidecar~10.0.0.5~c.default~default.svc.cluster.local");
  std::vector<std::string> names;
  for (const auto& rc : r.routes) names.push_back(rc.resource.name());
  EXPECT_EQ(names, (std::vector<std::string>{"80", "9080", "9090"}));  // no route config for TCP 5432
  for (const auto& rc : r.routes) {
    EXPECT_TRUE(rc.resource.ignore_port_in_host_matching());
    const auto& last = rc.resource.virtual_hosts(rc.resource.virtual_hosts_size() - 1);
    EXPECT_EQ(last.name(), "allow_any");
    EXPECT_EQ(Domains(last), std::vector<std::string>{"*"});
    EXPECT_EQ(last.routes(0).route().cluster(), "PassthroughCluster");
  }
}

TEST(RouteTest, DomainsForSameNamespaceProxy) {
  auto r = CompileFor(ParseYaml(Mesh()), "sidecar~10.0.0.5~c.default~default.svc.cluster.local");
  const auto* vh = FindVirtualHost(*FindRoute(r, "9080"), "reviews.default.svc.cluster.local:9080");
  ASSERT_NE(vh, nullptr);
  EXPECT_EQ(Domains(*vh), (std::vector<std::string>{"reviews.default.svc.cluster.local",
                                                    "reviews.default.svc.cluster.local.", "reviews",
                                                    "reviews.default", "reviews.default.svc", "10.96.0.10"}));
}

TEST(RouteTest, DomainsForCrossNamespaceProxy) {
  auto r = CompileFor(ParseYaml(Mesh()), "sidecar~10.0.0.6~c.other~other.svc.cluster.local");
  const auto* vh = FindVirtualHost(*FindRoute(r, "9080"), "reviews.default.svc.cluster.local:9080");
  ASSERT_NE(vh, nullptr);
  EXPECT_EQ(Domains(*vh), (std::vector<std::string>{"reviews.default.svc.cluster.local",
                                                    "reviews.default.svc.cluster.local.", "reviews.default",
                                                    "reviews.default.svc", "10.96.0.10"}));
}

TEST(RouteTest, MultiPortServiceHasAVirtualHostPerPort) {
  auto r = CompileFor(ParseYaml(Mesh()), "sidecar~10.0.0.6~c.shop~shop.svc.cluster.local");
  EXPECT_NE(FindVirtualHost(*FindRoute(r, "80"), "web.shop.svc.cluster.local:80"), nullptr);
  EXPECT_NE(FindVirtualHost(*FindRoute(r, "9090"), "web.shop.svc.cluster.local:9090"), nullptr);
  EXPECT_EQ(FindVirtualHost(*FindRoute(r, "80"), "web.shop.svc.cluster.local:9090"), nullptr);
}

TEST(RouteTest, DomainsAreDeduplicatedAcrossVirtualHosts) {
  // Two services sharing a cluster IP (a misconfiguration): the IP stays with the first host only.
  std::string yaml = ServiceYaml("a", "default", {"http:80"}, "10.96.1.1") + ServiceYaml("b", "default", {"http:80"}, "10.96.1.1");
  auto r = CompileFor(ParseYaml(yaml), "sidecar~10.0.0.5~c.default~default.svc.cluster.local");
  const auto* a = FindVirtualHost(*FindRoute(r, "80"), "a.default.svc.cluster.local:80");
  const auto* b = FindVirtualHost(*FindRoute(r, "80"), "b.default.svc.cluster.local:80");
  EXPECT_EQ(Domains(*a).back(), "10.96.1.1");
  const auto b_domains = Domains(*b);
  EXPECT_EQ(std::count(b_domains.begin(), b_domains.end(), "10.96.1.1"), 0);
  EXPECT_EQ(b_domains.front(), "b.default.svc.cluster.local");
}

TEST(RouteTest, DefaultRouteWithIstioRetryPolicy) {
  auto r = CompileFor(ParseYaml(Mesh()), "sidecar~10.0.0.5~c.default~default.svc.cluster.local");
  const auto* vh = FindVirtualHost(*FindRoute(r, "9080"), "reviews.default.svc.cluster.local:9080");
  ASSERT_EQ(vh->routes_size(), 1);
  const auto& route = vh->routes(0);
  EXPECT_EQ(route.name(), "default");
  EXPECT_EQ(route.match().prefix(), "/");
  EXPECT_EQ(route.route().cluster(), "outbound|9080||reviews.default.svc.cluster.local");
  EXPECT_TRUE(route.route().has_timeout());
  EXPECT_EQ(route.route().timeout().seconds(), 0);
  EXPECT_EQ(route.route().timeout().nanos(), 0);
  const auto& retry = route.route().retry_policy();
  EXPECT_EQ(retry.num_retries().value(), 2u);
  EXPECT_EQ(retry.retry_on(), "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
  EXPECT_EQ(retry.retriable_status_codes_size(), 1);
  EXPECT_EQ(retry.retriable_status_codes(0), 503u);
  ASSERT_EQ(retry.retry_host_predicate_size(), 1);
  EXPECT_EQ(retry.retry_host_predicate(0).name(), "envoy.retry_host_predicates.previous_hosts");
  EXPECT_EQ(retry.retry_host_predicate(0).typed_config().type_url(),
            "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate");
  EXPECT_EQ(retry.host_selection_retry_max_attempts(), 5);
}

TEST(RouteTest, RegistryOnlyBlocksUnknownHosts) {
  MeshOptions options;
  options.outbound_policy = MeshOptions::OutboundPolicy::kRegistryOnly;
  auto r = CompileFor(ParseYaml(Mesh()), "sidecar~10.0.0.5~c.default~default.svc.cluster.local", {}, options);
  const auto& rc = *FindRoute(r, "9080");
  const auto& last = rc.virtual_hosts(rc.virtual_hosts_size() - 1);
  EXPECT_EQ(last.name(), "block_all");
  EXPECT_EQ(Domains(last), std::vector<std::string>{"*"});
  EXPECT_EQ(last.routes(0).direct_response().status(), 502u);
  const auto* outbound = FindListener(r, "virtualOutbound");
  EXPECT_EQ(ToJson(outbound->default_filter_chain()).find("PassthroughCluster"), std::string::npos);
  EXPECT_NE(ToJson(outbound->default_filter_chain()).find("BlackHoleCluster"), std::string::npos);
}

}  // namespace
}  // namespace cmesh::compiler::testing
