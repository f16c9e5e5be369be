// DestinationRule traffic policies → cluster settings, merging, and which rule applies.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::config::cluster::v3::Cluster;
constexpr char kClientNode[] = "sidecar~10.0.0.5~client-1.default~default.svc.cluster.local";

std::string Dr(const std::string& name, const std::string& ns, const std::string& body) {
  return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: " + name +
         "\n  namespace: " + ns + "\nspec:\n" + body + "---\n";
}

TEST(TrafficPolicyTest, SimpleLoadBalancers) {
  std::string yaml = ServiceYaml("a", "default", {"http:80"}) + ServiceYaml("b", "default", {"http:80"}) +
                     ServiceYaml("c", "default", {"http:80"}) +
                     Dr("a", "default", "  host: a\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n") +
                     Dr("b", "default", "  host: b\n  trafficPolicy:\n    loadBalancer:\n      simple: RANDOM\n") +
                     Dr("c", "default", "  host: c\n  trafficPolicy:\n    loadBalancer:\n      simple: PASSTHROUGH\n");
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  EXPECT_EQ(FindCluster(r, "outbound|80||a.default.svc.cluster.local")->lb_policy(), Cluster::LEAST_REQUEST);
  EXPECT_EQ(FindCluster(r, "outbound|80||b.default.svc.cluster.local")->lb_policy(), Cluster::RANDOM);
  const auto* c = FindCluster(r, "outbound|80||c.default.svc.cluster.local");
  EXPECT_EQ(c->type(), Cluster::ORIGINAL_DST);
  EXPECT_EQ(c->lb_policy(), Cluster::CLUSTER_PROVIDED);
  EXPECT_FALSE(c->has_eds_cluster_config());
  EXPECT_EQ(FindEndpoints(r, "outbound|80||c.default.svc.cluster.local"), nullptr);  // not an EDS cluster
}

TEST(TrafficPolicyTest, ConsistentHashIsRingHashPlusRouteHashPolicy) {
  std::string yaml = ServiceYaml("a", "default", {"http:80"}) + ServiceYaml("m", "default", {"http:80"}) +
                     Dr("a", "default",
                        "  host: a\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n"
                        "        httpHeaderName: x-user\n") +
                     Dr("m", "default",
                        "  host: m\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n"
                        "        useSourceIp: true\n        maglev:\n          tableSize: 65537\n");
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  const auto* a = FindCluster(r, "outbound|80||a.default.svc.cluster.local");
  EXPECT_EQ(a->lb_policy(), Cluster::RING_HASH);
  EXPECT_EQ(a->ring_hash_lb_config().minimum_ring_size().value(), 1024u);
  const auto* m = FindCluster(r, "outbound|80||m.default.svc.cluster.local");
  EXPECT_EQ(m->lb_policy(), Cluster::MAGLEV);
  EXPECT_EQ(m->maglev_lb_config().table_size().value(), 65537u);
  const auto* vh = FindVirtualHost(*FindRoute(r, "80"), "a.default.svc.cluster.local:80");
  ASSERT_EQ(vh->routes(0).route().hash_policy_size(), 1);
  EXPECT_EQ(vh->routes(0).route().hash_policy(0).header().header_name(), "x-user");
  const auto* vm = FindVirtualHost(*FindRoute(r, "80"), "m.default.svc.cluster.local:80");
  ASSERT_EQ(vm->routes(0).route().hash_policy_size(), 1);
  EXPECT_TRUE(vm->routes(0).route().hash_policy(0).connection_properties().source_ip());
}

TEST(TrafficPolicyTest, ConnectionPoolAndOutlierDetection) {
  std::string yaml = ServiceYaml("a", "default", {"http:80"}) +
                     Dr("a", "default",
                        "  host: a\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        maxConnections: 100\n"
                        "        connectTimeout: 30ms\n      http:\n        http1MaxPendingRequests: 10\n"
                        "        http2MaxRequests: 1000\n        maxRequestsPerConnection: 5\n        maxRetries: 3\n"
                        "        idleTimeout: 60s\n    outlierDetection:\n      consecutive5xxErrors: 7\n"
                        "      interval: 5m\n      baseEjectionTime: 15m\n      maxEjectionPercent: 40\n");
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  const auto* c = FindCluster(r, "outbound|80||a.default.svc.cluster.local");
  ASSERT_EQ(c->circuit_breakers().thresholds_size(), 1);
  const auto& t = c->circuit_breakers().thresholds(0);
  EXPECT_EQ(t.max_connections().value(), 100u);
  EXPECT_EQ(t.max_pending_requests().value(), 10u);
  EXPECT_EQ(t.max_requests().value(), 1000u);
  EXPECT_EQ(t.max_retries().value(), 3u);
  EXPECT_EQ(c->connect_timeout().nanos(), 30'000'000);
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions o;
  ASSERT_TRUE(c->typed_extension_protocol_options()
                  .at("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
                  .UnpackTo(&o));
  EXPECT_EQ(o.common_http_protocol_options().max_requests_per_connection().value(), 5u);
  EXPECT_EQ(o.common_http_protocol_options().idle_timeout().seconds(), 60);
  const auto& od = c->outlier_detection();
  EXPECT_EQ(od.consecutive_5xx().value(), 7u);
  EXPECT_EQ(od.enforcing_consecutive_5xx().value(), 100u);
  EXPECT_EQ(od.interval().seconds(), 300);
  EXPECT_EQ(od.base_ejection_time().seconds(), 900);
  EXPECT_EQ(od.max_ejection_percent().value(), 40u);
  // Panic mode off (Istio: minHealthPercent, 0 unless set), so ejected hosts stay out.
  EXPECT_TRUE(c->common_lb_config().has_healthy_panic_threshold());
  EXPECT_EQ(c->common_lb_config().healthy_panic_threshold().value(), 0.0);
}

TEST(TrafficPolicyTest, PanicThresholdOnlyWithOutlierDetection) {
  auto r = CompileFor(ParseYaml(ServiceYaml("a", "default", {"http:80"})), kClientNode);
  EXPECT_FALSE(FindCluster(r, "outbound|80||a.default.svc.cluster.local")->common_lb_config().has_healthy_panic_threshold());
  r = CompileFor(ParseYaml(ServiceYaml("a", "default", {"http:80"}) +
                           Dr("a", "default", "  host: a\n  trafficPolicy:\n    outlierDetection:\n"
                                              "      consecutive5xxErrors: 3\n      minHealthPercent: 25\n")),
                 kClientNode);
  EXPECT_EQ(FindCluster(r, "outbound|80||a.default.svc.cluster.local")->common_lb_config().healthy_panic_threshold().value(),
            25.0);
}

TEST(TrafficPolicyTest, DefaultThresholdsAreUnlimited) {
  auto r = CompileFor(ParseYaml(ServiceYaml("a", "default", {"http:80"})), kClientNode);
  const auto& t = FindCluster(r, "outbound|80||a.default.svc.cluster.local")->circuit_breakers().thresholds(0);
  EXPECT_EQ(t.max_connections().value(), 4294967295u);
  EXPECT_EQ(t.max_requests().value(), 4294967295u);
}

TEST(TrafficPolicyTest, SubsetOverridesWholeSettingsAndPortLevelOnTop) {
  std::string yaml =
      ServiceYaml("a", "default", {"http:80", "http-admin:81"}) +
      Dr("a", "default",
         "  host: a\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n"
         "    connectionPool:\n      tcp:\n        maxConnections: 5\n"
         "    portLevelSettings:\n    - port:\n        number: 81\n      loadBalancer:\n        simple: RANDOM\n"
         "  subsets:\n  - name: v1\n    labels: {version: v1}\n"
         "  - name: v2\n    labels: {version: v2}\n    trafficPolicy:\n      loadBalancer:\n        simple: ROUND_ROBIN\n");
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  // Rule level.
  EXPECT_EQ(FindCluster(r, "outbound|80||a.default.svc.cluster.local")->lb_policy(), Cluster::LEAST_REQUEST);
  // Rule port-level for port 81 only.
  EXPECT_EQ(FindCluster(r, "outbound|81||a.default.svc.cluster.local")->lb_policy(), Cluster::RANDOM);
  // v1 has no policy of its own: inherits the rule's.
  EXPECT_EQ(FindCluster(r, "outbound|80|v1|a.default.svc.cluster.local")->lb_policy(), Cluster::LEAST_REQUEST);
  // v2's load balancer wins; the rule's connection pool still applies (settings merge whole).
  const auto* v2 = FindCluster(r, "outbound|80|v2|a.default.svc.cluster.local");
  EXPECT_EQ(v2->lb_policy(), Cluster::ROUND_ROBIN);
  EXPECT_EQ(v2->circuit_breakers().thresholds(0).max_connections().value(), 5u);
  EXPECT_EQ(FindCluster(r, "outbound|81|v2|a.default.svc.cluster.local")->lb_policy(), Cluster::ROUND_ROBIN);
}

// Istio's lookup: the proxy's namespace first, then the service's, then the root namespace.
TEST(TrafficPolicyTest, RuleLookupOrderAndVisibility) {
  std::string yaml =
      ServiceYaml("a", "svc-ns", {"http:80"}) +
      Dr("from-client", "client", "  host: a.svc-ns.svc.cluster.local\n  trafficPolicy:\n    loadBalancer:\n      simple: RANDOM\n") +
      Dr("from-service", "svc-ns", "  host: a\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n") +
      Dr("private", "svc-ns",
         "  host: a\n  exportTo: [\".\"]\n  trafficPolicy:\n    loadBalancer:\n      simple: PASSTHROUGH\n") +
      Dr("mesh-wide", "istio-system", "  host: \"*.svc-ns.svc.cluster.local\"\n  trafficPolicy:\n    connectionPool:\n"
                                      "      tcp:\n        maxConnections: 9\n");
  auto config = ParseYaml(yaml);
  const std::string name = "outbound|80||a.svc-ns.svc.cluster.local";
  // A client in `client` gets its own namespace's rule.
  EXPECT_EQ(FindCluster(CompileFor(config, "sidecar~10.0.0.1~p.client~client.svc.cluster.local"), name)->lb_policy(),
            Cluster::RANDOM);
  // Elsewhere: the service namespace's public rule (the merged first by name is "from-service").
  auto other = CompileFor(config, "sidecar~10.0.0.2~p.other~other.svc.cluster.local");
  EXPECT_EQ(FindCluster(other, name)->lb_policy(), Cluster::LEAST_REQUEST);
  EXPECT_EQ(FindCluster(other, name)->circuit_breakers().thresholds(0).max_connections().value(), 4294967295u);
}

TEST(TrafficPolicyTest, RootNamespaceRuleIsTheLastResort) {
  std::string yaml = ServiceYaml("a", "svc-ns", {"http:80"}) +
                     Dr("mesh-wide", "istio-system",
                        "  host: \"*.svc-ns.svc.cluster.local\"\n  trafficPolicy:\n    connectionPool:\n"
                        "      tcp:\n        maxConnections: 9\n");
  auto r = CompileFor(ParseYaml(yaml), "sidecar~10.0.0.2~p.other~other.svc.cluster.local");
  EXPECT_EQ(FindCluster(r, "outbound|80||a.svc-ns.svc.cluster.local")->circuit_breakers().thresholds(0).max_connections().value(),
            9u);
}

TEST(TrafficPolicyTest, WorkloadSelectorRuleOnlyForMatchingProxies) {
  std::string yaml = ServiceYaml("a", "default", {"http:80"}) +
                     Dr("selected", "default",
                        "  host: a\n  workloadSelector:\n    matchLabels:\n      app: special\n"
                        "  trafficPolicy:\n    loadBalancer:\n      simple: RANDOM\n");
  auto config = ParseYaml(yaml);
  const std::string name = "outbound|80||a.default.svc.cluster.local";
  EXPECT_EQ(FindCluster(CompileFor(config, kClientNode, {{"app", "special"}}), name)->lb_policy(), Cluster::RANDOM);
  EXPECT_EQ(FindCluster(CompileFor(config, kClientNode, {{"app", "plain"}}), name)->lb_policy(), Cluster::ROUND_ROBIN);
}

}  // namespace
}  // namespace cmesh::compiler::testing
