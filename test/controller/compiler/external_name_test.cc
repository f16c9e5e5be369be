// Services of type ExternalName. Istio converts them to a mesh-external service with DNS
// resolution whose endpoint is spec.externalName at each service port: a STRICT_DNS cluster
// (DNS family of the proxy's address, respect_dns_ttl, the mesh dnsRefreshRate) and, for HTTP
// ports, a virtual host like any other service's.
#include <gtest/gtest.h>

#include <algorithm>

#include "cmesh/compiler/incremental_compiler.h"
#include "compiler_test_util.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::config::cluster::v3::Cluster;
constexpr char kNode[] = "sidecar~10.0.0.5~client-1.default~default.svc.cluster.local";
constexpr char kNode6[] = "sidecar~fd00::5~client-1.default~default.svc.cluster.local";

std::string ExternalName(const std::string& name, const std::string& target, const std::string& ports,
                         const std::string& labels = "") {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: default\n" + labels +
         "spec:\n  type: ExternalName\n  externalName: " + target + "\n" + ports + "---\n";
}

constexpr char kPorts[] = "  ports:\n  - name: http\n    port: 80\n  - name: tcp-db\n    port: 5432\n";

TEST(ExternalNameTest, DnsClusterPerPortToTheExternalName) {
  auto r = CompileFor(ParseYaml(ExternalName("ext", "api.example.com", kPorts)), kNode);
  for (uint32_t port : {80u, 5432u}) {
    const std::string name = "outbound|" + std::to_string(port) + "||ext.default.svc.cluster.local";
    const Cluster* c = FindCluster(r, name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_EQ(c->type(), Cluster::STRICT_DNS);
    EXPECT_FALSE(c->has_eds_cluster_config());
    EXPECT_EQ(c->dns_lookup_family(), Cluster::V4_ONLY);
    EXPECT_TRUE(c->respect_dns_ttl());
    EXPECT_EQ(c->dns_refresh_rate().seconds(), 60);  // MeshConfig's default dnsRefreshRate
    EXPECT_EQ(c->load_assignment().cluster_name(), name);
    EXPECT_EQ(EndpointAddresses(c->load_assignment()),
              (std::vector<std::string>{"api.example.com:" + std::to_string(port)}));
    EXPECT_TRUE(c->load_assignment().endpoints(0).has_locality());
    EXPECT_EQ(FindEndpoints(r, name), nullptr);  // no EDS for a DNS cluster
  }
  for (const auto& w : r.warnings) EXPECT_EQ(w.find("ExternalName"), std::string::npos) << w;
}

TEST(ExternalNameTest, HttpPortGetsAVirtualHostAndVirtualServicesApply) {
  auto r = CompileFor(
      ParseYaml(ExternalName("ext", "api.example.com", kPorts) +
                "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ext\n  namespace: default\n"
                "spec:\n  hosts: [ext]\n  http:\n  - timeout: 3s\n    route:\n    - destination: {host: ext}\n---\n"),
      kNode);
  const auto* rc = FindRoute(r, "80");
  ASSERT_NE(rc, nullptr);
  const auto* vh = FindVirtualHost(*rc, "ext.default.svc.cluster.local:80");
  ASSERT_NE(vh, nullptr);
  std::vector<std::string> domains(vh->domains().begin(), vh->domains().end());
  EXPECT_EQ(domains, (std::vector<std::string>{"ext.default.svc.cluster.local", "ext.default.svc.cluster.local.", "ext",
                                               "ext.default", "ext.default.svc"}));
  EXPECT_EQ(vh->routes(0).route().cluster(), "outbound|80||ext.default.svc.cluster.local");
  EXPECT_EQ(vh->routes(0).route().timeout().seconds(), 3);
  // The TCP port has no cluster IP to listen on (like a headless service): no listener.
  for (const auto& l : r.listeners) EXPECT_EQ(l.resource.name().find("_5432"), std::string::npos);
}

TEST(ExternalNameTest, DestinationRulePolicyAndSubsets) {
  auto r = CompileFor(
      ParseYaml(ExternalName("ext", "api.example.com", kPorts, "  labels: {version: v1}\n") +
                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ext\n  namespace: default\n"
                "spec:\n  host: ext\n  trafficPolicy:\n    loadBalancer: {simple: LEAST_REQUEST}\n"
                "  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v2\n    labels: {version: v2}\n---\n"),
      kNode);
  const Cluster* c = FindCluster(r, "outbound|80||ext.default.svc.cluster.local");
  EXPECT_EQ(c->lb_policy(), Cluster::LEAST_REQUEST);
  // The ExternalName endpoint carries the Service's labels: it is in v1, not in v2.
  EXPECT_EQ(EndpointAddresses(FindCluster(r, "outbound|80|v1|ext.default.svc.cluster.local")->load_assignment()),
            (std::vector<std::string>{"api.example.com:80"}));
  EXPECT_TRUE(EndpointAddresses(FindCluster(r, "outbound|80|v2|ext.default.svc.cluster.local")->load_assignment()).empty());
}

TEST(ExternalNameTest, PassthroughDropsTheDnsSettings) {
  auto r = CompileFor(ParseYaml(ExternalName("ext", "api.example.com", kPorts) +
                                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ext\n"
                                "  namespace: default\nspec:\n  host: ext\n  trafficPolicy:\n"
                                "    loadBalancer: {simple: PASSTHROUGH}\n---\n"),
                      kNode);
  const Cluster* c = FindCluster(r, "outbound|80||ext.default.svc.cluster.local");
  EXPECT_EQ(c->type(), Cluster::ORIGINAL_DST);
  EXPECT_FALSE(c->has_load_assignment());
  EXPECT_FALSE(c->has_dns_refresh_rate());
}

TEST(ExternalNameTest, Ipv6ProxyResolvesIpv6AndMeshRefreshRateApplies) {
  MeshOptions options;
  options.dns_refresh_rate = model::Duration{5'000'000'000};
  auto config = ParseYaml(ExternalName("ext", "api.example.com", kPorts));
  auto r = CompileFor(config, kNode6, {}, options);
  const Cluster* c = FindCluster(r, "outbound|80||ext.default.svc.cluster.local");
  EXPECT_EQ(c->dns_lookup_family(), Cluster::V6_ONLY);
  EXPECT_EQ(c->dns_refresh_rate().seconds(), 5);
}

TEST(ExternalNameTest, WithoutExternalNameItIsReported) {
  auto r = CompileFor(ParseYaml("apiVersion: v1\nkind: Service\nmetadata:\n  name: ext\n  namespace: default\n"
                                "spec:\n  type: ExternalName\n" + std::string(kPorts) + "---\n"),
                      kNode);
  EXPECT_EQ(FindCluster(r, "outbound|80||ext.default.svc.cluster.local"), nullptr);
  EXPECT_TRUE(std::any_of(r.warnings.begin(), r.warnings.end(), [](const std::string& w) {
    return w.find("Service default/ext: type ExternalName without spec.externalName") != std::string::npos;
  }));
}

TEST(ExternalNameTest, IncrementalCompilerFollowsTheExternalNameAndTheProxyFamily) {
  IncrementalCompiler ic;
  ic.Update(std::make_shared<model::ConfigSet>(ParseYaml(ExternalName("ext", "a.example.com", kPorts))));
  std::string error;
  XdsResources out;
  ic.CompileInto(*ParseNodeId(kNode, &error), &out);
  EXPECT_EQ(EndpointAddresses(FindCluster(out, "outbound|80||ext.default.svc.cluster.local")->load_assignment()),
            (std::vector<std::string>{"a.example.com:80"}));
  ic.Update(std::make_shared<model::ConfigSet>(ParseYaml(ExternalName("ext", "b.example.com", kPorts))));
  ic.CompileInto(*ParseNodeId(kNode, &error), &out);
  EXPECT_EQ(EndpointAddresses(FindCluster(out, "outbound|80||ext.default.svc.cluster.local")->load_assignment()),
            (std::vector<std::string>{"b.example.com:80"}));
  // Same namespace and labels, other address family: never served the IPv4 proxy's clusters.
  XdsResources out6 = ic.Compile(*ParseNodeId(kNode6, &error));
  EXPECT_EQ(FindCluster(out6, "outbound|80||ext.default.svc.cluster.local")->dns_lookup_family(), Cluster::V6_ONLY);
  EXPECT_EQ(FindCluster(ic.Compile(*ParseNodeId(kNode, &error)), "outbound|80||ext.default.svc.cluster.local")
                ->dns_lookup_family(),
            Cluster::V4_ONLY);
}

}  // namespace
}  // namespace cmesh::compiler::testing
