// LDS: virtual listeners, per-port outbound listeners, HTTP filter order, TCP routes.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

constexpr char kNode[] = "sidecar~10.0.0.5~c.default~default.svc.cluster.local";

std::string Mesh() {
  return ServiceYaml("reviews", "default", {"http:9080"}, "10.96.0.10") +
         ServiceYaml("db", "default", {"tcp:5432"}, "10.96.0.11") + ServiceYaml("headless", "default", {"tcp:7000"}, "None") +
         ServiceYaml("db-v2", "default", {"tcp:5432"}, "10.96.0.12");
}

std::vector<std::string> ListenerNames(const XdsResources& r) {
  std::vector<std::string> out;
  for (const auto& l : r.listeners) out.push_back(l.resource.name());
  return out;
}

TEST(ListenerTest, Names) {
  auto r = CompileFor(ParseYaml(Mesh()), kNode);
  EXPECT_EQ(ListenerNames(r), (std::vector<std::string>{"0.0.0.0_9080", "10.96.0.11_5432", "10.96.0.12_5432",
                                                        "virtualInbound", "virtualOutbound"}));
}

TEST(ListenerTest, HttpListenerUsesRdsAndEndsWithTheRouter) {
  auto r = CompileFor(ParseYaml(Mesh()), kNode);
  const auto* l = FindListener(r, "0.0.0.0_9080");
  ASSERT_NE(l, nullptr);
  EXPECT_FALSE(l->bind_to_port().value());
  EXPECT_TRUE(l->has_bind_to_port());
  HttpConnectionManager hcm;
  ASSERT_TRUE(l->filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  EXPECT_EQ(hcm.rds().route_config_name(), "9080");
  EXPECT_TRUE(hcm.rds().config_source().has_ads());
  ASSERT_EQ(hcm.http_filters_size(), 3);
  EXPECT_EQ(hcm.http_filters(0).name(), "envoy.filters.http.fault");
  EXPECT_EQ(hcm.http_filters(1).name(), "envoy.filters.http.cors");
  EXPECT_EQ(hcm.http_filters(2).name(), "envoy.filters.http.router");
  EXPECT_EQ(hcm.http_filters(0).typed_config().type_url(),
            "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault");
}

TEST(ListenerTest, TcpListenerOnClusterIpWithTcpProxy) {
  auto r = CompileFor(ParseYaml(Mesh()), kNode);
  const auto* l = FindListener(r, "10.96.0.11_5432");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->address().socket_address().address(), "10.96.0.11");
  EXPECT_EQ(l->address().socket_address().port_value(), 5432u);
  EXPECT_FALSE(l->bind_to_port().value());
  TcpProxy tcp;
  ASSERT_TRUE(l->filter_chains(0).filters(0).typed_config().UnpackTo(&tcp));
  EXPECT_EQ(tcp.cluster(), "outbound|5432||db.default.svc.cluster.local");
}

TEST(ListenerTest, TcpRoutesBecomeWeightedClusters) {
  std::string yaml = Mesh() +
                     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: db\n"
                     "  namespace: default\nspec:\n  hosts: [db]\n  tcp:\n  - match:\n    - port: 9999\n    route:\n"
                     "    - destination: {host: db, subset: never}\n  - route:\n    - destination: {host: db, subset: v1}\n"
                     "      weight: 80\n    - destination: {host: db-v2}\n      weight: 20\n";
  auto r = CompileFor(ParseYaml(yaml), kNode);
  TcpProxy tcp;
  ASSERT_TRUE(FindListener(r, "10.96.0.11_5432")->filter_chains(0).filters(0).typed_config().UnpackTo(&tcp));
  ASSERT_EQ(tcp.weighted_clusters().clusters_size(), 2);
  EXPECT_EQ(tcp.weighted_clusters().clusters(0).name(), "outbound|5432|v1|db.default.svc.cluster.local");
  EXPECT_EQ(tcp.weighted_clusters().clusters(0).weight(), 80u);
  EXPECT_EQ(tcp.weighted_clusters().clusters(1).name(), "outbound|5432||db-v2.default.svc.cluster.local");
  EXPECT_EQ(tcp.weighted_clusters().clusters(1).weight(), 20u);
}

TEST(ListenerTest, VirtualListeners) {
  auto r = CompileFor(ParseYaml(Mesh()), kNode);
  const auto* out = FindListener(r, "virtualOutbound");
  EXPECT_EQ(out->address().socket_address().port_value(), 15001u);
  EXPECT_TRUE(out->use_original_dst().value());
  const auto* in = FindListener(r, "virtualInbound");
  EXPECT_EQ(in->address().socket_address().port_value(), 15006u);
  EXPECT_EQ(in->listener_filters(0).name(), "envoy.filters.listener.original_dst");
}

TEST(ListenerTest, InboundChainsPerPort) {
  std::string yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\n  namespace: default\nspec:\n"
                     "  selector: {app: app}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n"
                     "  - name: tcp\n    port: 81\n    targetPort: 8081\n---\n";
  auto r = CompileFor(ParseYaml(yaml), kNode, {{"app", "app"}});
  const auto* in = FindListener(r, "virtualInbound");
  std::map<uint32_t, const envoy::config::listener::v3::FilterChain*> chains;
  for (const auto& c : in->filter_chains()) chains[c.filter_chain_match().destination_port().value()] = &c;
  ASSERT_EQ(chains.count(8080), 1u);
  ASSERT_EQ(chains.count(8081), 1u);
  HttpConnectionManager hcm;
  ASSERT_TRUE(chains[8080]->filters(0).typed_config().UnpackTo(&hcm));
  EXPECT_EQ(hcm.route_config().name(), "inbound|8080||");
  EXPECT_EQ(hcm.route_config().virtual_hosts(0).routes(0).route().cluster(), "inbound|8080||");
  EXPECT_EQ(hcm.http_filters(hcm.http_filters_size() - 1).name(), "envoy.filters.http.router");
  TcpProxy tcp;
  ASSERT_TRUE(chains[8081]->filters(0).typed_config().UnpackTo(&tcp));
  EXPECT_EQ(tcp.cluster(), "inbound|8081||");
  TcpProxy passthrough;
  ASSERT_TRUE(in->default_filter_chain().filters(0).typed_config().UnpackTo(&passthrough));
  EXPECT_EQ(passthrough.cluster(), "InboundPassthroughCluster");
}

}  // namespace
}  // namespace cmesh::compiler::testing
