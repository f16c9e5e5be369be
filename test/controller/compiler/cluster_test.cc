// CDS: names, types, EDS wiring, special and inbound clusters, visibility.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::config::cluster::v3::Cluster;

std::vector<std::string> ClusterNames(const XdsResources& r) {
  std::vector<std::string> out;
  for (const auto& c : r.clusters) out.push_back(c.resource.name());
  return out;
}

constexpr char kClientNode[] = "sidecar~10.0.0.5~client-1.default~default.svc.cluster.local";

TEST(ClusterTest, OneClusterPerPortAndPerSubsetPerPortUdpSkipped) {
  std::string yaml = ServiceYaml("multi", "default", {"http:8080", "grpc-api:9090", "tcp-db:5432"}) +
                     "apiVersion: v1\nkind: Service\nmetadata:\n  name: dns\n  namespace: default\nspec:\n"
                     "  ports:\n  - name: dns\n    port: 53\n    protocol: UDP\n---\n"
                     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: multi\n"
                     "  namespace: default\nspec:\n  host: multi\n  subsets:\n  - name: v1\n    labels: {version: v1}\n"
                     "  - name: v2\n    labels: {version: v2}\n";
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  EXPECT_EQ(ClusterNames(r), (std::vector<std::string>{
                                 "BlackHoleCluster",
                                 "InboundPassthroughCluster",
                                 "PassthroughCluster",
                                 "outbound|5432|v1|multi.default.svc.cluster.local",
                                 "outbound|5432|v2|multi.default.svc.cluster.local",
                                 "outbound|5432||multi.default.svc.cluster.local",
                                 "outbound|8080|v1|multi.default.svc.cluster.local",
                                 "outbound|8080|v2|multi.default.svc.cluster.local",
                                 "outbound|8080||multi.default.svc.cluster.local",
                                 "outbound|9090|v1|multi.default.svc.cluster.local",
                                 "outbound|9090|v2|multi.default.svc.cluster.local",
                                 "outbound|9090||multi.default.svc.cluster.local",
                             }));
  // Every EDS cluster has a ClusterLoadAssignment of the same name, and nothing else does.
  std::vector<std::string> cla_names;
  for (const auto& e : r.endpoints) cla_names.push_back(e.resource.cluster_name());
  std::vector<std::string> eds;
  for (const auto& c : r.clusters) {
    if (c.resource.type() == Cluster::EDS) eds.push_back(c.resource.name());
  }
  EXPECT_EQ(cla_names, eds);
  EXPECT_EQ(eds.size(), 9u);
}

TEST(ClusterTest, EdsOverAdsWithServiceNameAndDefaultConnectTimeout) {
  auto r = CompileFor(ParseYaml(ServiceYaml("reviews", "default", {"http:9080"})), kClientNode);
  const auto* c = FindCluster(r, "outbound|9080||reviews.default.svc.cluster.local");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->type(), Cluster::EDS);
  EXPECT_TRUE(c->eds_cluster_config().eds_config().has_ads());
  EXPECT_EQ(c->eds_cluster_config().eds_config().resource_api_version(), envoy::config::core::v3::V3);
  EXPECT_EQ(c->eds_cluster_config().service_name(), "outbound|9080||reviews.default.svc.cluster.local");
  EXPECT_EQ(c->connect_timeout().seconds(), 10);
  EXPECT_EQ(c->lb_policy(), Cluster::ROUND_ROBIN);
  // HTTP/1 port: no protocol options forcing HTTP/2.
  EXPECT_EQ(c->typed_extension_protocol_options().count("envoy.extensions.upstreams.http.v3.HttpProtocolOptions"), 0u);
}

TEST(ClusterTest, MeshConnectTimeoutOption) {
  MeshOptions options;
  options.connect_timeout = model::Duration{2'500'000'000};
  auto r = CompileFor(ParseYaml(ServiceYaml("reviews", "default", {"http:9080"})), kClientNode, {}, options);
  const auto* c = FindCluster(r, "outbound|9080||reviews.default.svc.cluster.local");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->connect_timeout().seconds(), 2);
  EXPECT_EQ(c->connect_timeout().nanos(), 500'000'000);
}

bool UsesHttp2(const Cluster& c) {
  auto it = c.typed_extension_protocol_options().find("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  if (it == c.typed_extension_protocol_options().end()) return false;
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions o;
  if (!it->second.UnpackTo(&o)) return false;
  return o.explicit_http_config().has_http2_protocol_options();
}

TEST(ClusterTest, Http2ForGrpcAndHttp2PortsAndAppProtocol) {
  std::string yaml = ServiceYaml("a", "default", {"grpc:50051", "http2-x:8081", "http:8080", "tcp:9000"}) +
                     "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  namespace: default\nspec:\n"
                     "  ports:\n  - name: web\n    port: 7070\n    appProtocol: kubernetes.io/h2c\n"
                     "  - name: plain\n    port: 7071\n    appProtocol: http\n---\n";
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  EXPECT_TRUE(UsesHttp2(*FindCluster(r, "outbound|50051||a.default.svc.cluster.local")));
  EXPECT_TRUE(UsesHttp2(*FindCluster(r, "outbound|8081||a.default.svc.cluster.local")));
  EXPECT_FALSE(UsesHttp2(*FindCluster(r, "outbound|8080||a.default.svc.cluster.local")));
  EXPECT_FALSE(UsesHttp2(*FindCluster(r, "outbound|9000||a.default.svc.cluster.local")));
  EXPECT_TRUE(UsesHttp2(*FindCluster(r, "outbound|7070||b.default.svc.cluster.local")));
  EXPECT_FALSE(UsesHttp2(*FindCluster(r, "outbound|7071||b.default.svc.cluster.local")));
}

TEST(ClusterTest, H2UpgradePolicyUpgradesHttpPort) {
  std::string yaml = ServiceYaml("a", "default", {"http:8080"}) +
                     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: a\n"
                     "  namespace: default\nspec:\n  host: a\n  trafficPolicy:\n    connectionPool:\n"
                     "      http:\n        h2UpgradePolicy: UPGRADE\n";
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  EXPECT_TRUE(UsesHttp2(*FindCluster(r, "outbound|8080||a.default.svc.cluster.local")));
}

TEST(ClusterTest, SpecialClusters) {
  auto r = CompileFor(ParseYaml(ServiceYaml("a", "default", {"http:8080"})), kClientNode);
  const auto* pass = FindCluster(r, "PassthroughCluster");
  ASSERT_NE(pass, nullptr);
  EXPECT_EQ(pass->type(), Cluster::ORIGINAL_DST);
  EXPECT_EQ(pass->lb_policy(), Cluster::CLUSTER_PROVIDED);
  const auto* hole = FindCluster(r, "BlackHoleCluster");
  ASSERT_NE(hole, nullptr);
  EXPECT_EQ(hole->type(), Cluster::STATIC);
  EXPECT_EQ(hole->load_assignment().endpoints_size(), 0);
  const auto* inbound = FindCluster(r, "InboundPassthroughCluster");
  ASSERT_NE(inbound, nullptr);
  EXPECT_EQ(inbound->type(), Cluster::ORIGINAL_DST);
  EXPECT_EQ(inbound->lb_policy(), Cluster::CLUSTER_PROVIDED);
}

TEST(ClusterTest, InboundClustersForServicesSelectingTheProxyInItsNamespace) {
  std::string yaml =
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: default\nspec:\n"
      "  selector: {app: reviews}\n  ports:\n  - name: http\n    port: 9080\n    targetPort: 8080\n"
      "  - name: http-admin\n    port: 9090\n    targetPort: admin\n---\n"
      // Same selector, other namespace: does not select a pod of `default`.
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: other\nspec:\n"
      "  selector: {app: reviews}\n  ports:\n  - name: http\n    port: 7000\n---\n"
      // Selects other pods.
      + ServiceYaml("ratings", "default", {"http:9999"}) +
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: reviews-1\n  namespace: default\n  labels: {app: reviews}\n"
      "spec:\n  containers:\n  - name: app\n    ports:\n    - name: admin\n      containerPort: 8090\n"
      "status:\n  phase: Running\n  podIP: 10.0.0.9\n";
  auto r = CompileFor(ParseYaml(yaml), "sidecar~10.0.0.9~reviews-1.default~default.svc.cluster.local");
  const auto* c = FindCluster(r, "inbound|8080||");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->type(), Cluster::STATIC);
  ASSERT_EQ(c->load_assignment().endpoints_size(), 1);
  const auto& sa = c->load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address();
  EXPECT_EQ(sa.address(), "127.0.0.1");
  EXPECT_EQ(sa.port_value(), 8080u);
  EXPECT_NE(FindCluster(r, "inbound|8090||"), nullptr);  // named target port resolved from the pod
  EXPECT_EQ(FindCluster(r, "inbound|7000||"), nullptr);
  EXPECT_EQ(FindCluster(r, "inbound|9999||"), nullptr);
}

TEST(ClusterTest, ServiceExportToLimitsVisibility) {
  std::string yaml =
      ServiceYaml("private", "team-a", {"http:80"}, "", "  annotations:\n    networking.istio.io/exportTo: \".\"\n") +
      ServiceYaml("shared", "team-a", {"http:80"}, "", "  annotations:\n    networking.istio.io/exportTo: \"team-b\"\n") +
      ServiceYaml("public", "team-a", {"http:80"});
  auto config = ParseYaml(yaml);
  auto same_ns = CompileFor(config, "sidecar~10.0.0.1~p.team-a~team-a.svc.cluster.local");
  auto team_b = CompileFor(config, "sidecar~10.0.0.2~p.team-b~team-b.svc.cluster.local");
  auto team_c = CompileFor(config, "sidecar~10.0.0.3~p.team-c~team-c.svc.cluster.local");
  EXPECT_NE(FindCluster(same_ns, "outbound|80||private.team-a.svc.cluster.local"), nullptr);
  EXPECT_EQ(FindCluster(team_b, "outbound|80||private.team-a.svc.cluster.local"), nullptr);
  EXPECT_NE(FindCluster(team_b, "outbound|80||shared.team-a.svc.cluster.local"), nullptr);
  EXPECT_EQ(FindCluster(team_c, "outbound|80||shared.team-a.svc.cluster.local"), nullptr);
  EXPECT_NE(FindCluster(team_c, "outbound|80||public.team-a.svc.cluster.local"), nullptr);
}

TEST(ClusterTest, DestinationRuleTlsIsAWarningNotSilence) {
  std::string yaml = ServiceYaml("a", "default", {"http:8080"}) +
                     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: a\n"
                     "  namespace: default\nspec:\n  host: a\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";
  auto r = CompileFor(ParseYaml(yaml), kClientNode);
  bool found = false;
  for (const auto& w : r.warnings) found = found || w.find("tls") != std::string::npos;
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace cmesh::compiler::testing
