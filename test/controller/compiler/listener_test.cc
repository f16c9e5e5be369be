// LDS: virtual listeners, per-port outbound listeners, HTTP filter order, TCP routes.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

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

// A port named without a known protocol ("web", or no name) is sniffed, as Istio's "auto": its
// service's listener offers an HTTP chain (matched by application protocol, routed by the port's
// route configuration) and the tcp_proxy chain for the rest, and the virtual listeners carry the
// http_inspector without a detection timeout.
TEST(ListenerTest, AnUndeclaredProtocolIsSniffedOutbound) {
  const std::string yaml = ServiceYaml("cache", "default", {"web:7000"}, "10.96.0.20");
  auto r = CompileFor(ParseYaml(yaml), kNode);
  const auto* l = FindListener(r, "10.96.0.20_7000");
  ASSERT_NE(l, nullptr);
  ASSERT_EQ(l->filter_chains_size(), 2);
  const auto& http = l->filter_chains(0);
  ASSERT_EQ(http.filter_chain_match().application_protocols_size(), 2);
  EXPECT_EQ(http.filter_chain_match().application_protocols(0), "http/1.1");
  EXPECT_EQ(http.filter_chain_match().application_protocols(1), "h2c");
  HttpConnectionManager hcm;
  ASSERT_TRUE(http.filters(0).typed_config().UnpackTo(&hcm));
  EXPECT_EQ(hcm.rds().route_config_name(), "7000");
  TcpProxy tcp;
  ASSERT_TRUE(l->filter_chains(1).filters(0).typed_config().UnpackTo(&tcp));
  EXPECT_EQ(tcp.cluster(), "outbound|7000||cache.default.svc.cluster.local");
  EXPECT_EQ(l->filter_chains(1).filter_chain_match().application_protocols_size(), 0);
  // The port's route configuration has the service's virtual host; no 0.0.0.0_7000 HTTP
  // listener takes every connection to port 7000 as HTTP.
  EXPECT_EQ(FindListener(r, "0.0.0.0_7000"), nullptr);
  const auto* routes = FindRoute(r, "7000");
  ASSERT_NE(routes, nullptr);
  std::vector<std::string> hosts;
  for (const auto& vh : routes->virtual_hosts()) hosts.push_back(vh.name());
  // The service's, and the allow_any passthrough of ALLOW_ANY meshes.
  EXPECT_EQ(hosts, (std::vector<std::string>{"cache.default.svc.cluster.local:7000", "allow_any"}));
  for (const char* name : {"virtualOutbound", "virtualInbound"}) {
    const auto* v = FindListener(r, name);
    ASSERT_EQ(v->listener_filters_size(), 2) << name;
    EXPECT_EQ(v->listener_filters(1).name(), "envoy.filters.listener.http_inspector") << name;
    EXPECT_TRUE(v->has_listener_filters_timeout()) << name;
    EXPECT_EQ(v->listener_filters_timeout().seconds(), 0) << name;
    EXPECT_TRUE(v->continue_on_listener_filters_timeout()) << name;
  }
  // The upstream speaks what the client spoke.
  const auto* cluster = FindCluster(r, "outbound|7000||cache.default.svc.cluster.local");
  ASSERT_NE(cluster, nullptr);
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  ASSERT_TRUE(cluster->typed_extension_protocol_options()
                  .at("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
                  .UnpackTo(&options));
  EXPECT_TRUE(options.has_use_downstream_protocol_config());
}

TEST(ListenerTest, AnUndeclaredInboundPortHasAnHttpAndATcpChain) {
  std::string yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\n  namespace: default\nspec:\n"
                     "  selector: {app: app}\n  ports:\n  - name: web\n    port: 80\n    targetPort: 8080\n---\n";
  auto r = CompileFor(ParseYaml(yaml), kNode, {{"app", "app"}});
  const auto* in = FindListener(r, "virtualInbound");
  std::vector<const envoy::config::listener::v3::FilterChain*> chains;
  for (const auto& c : in->filter_chains()) {
    if (c.filter_chain_match().destination_port().value() == 8080) chains.push_back(&c);
  }
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_EQ(chains[0]->filter_chain_match().application_protocols_size(), 2);
  HttpConnectionManager hcm;
  ASSERT_TRUE(chains[0]->filters(0).typed_config().UnpackTo(&hcm));
  EXPECT_EQ(hcm.route_config().virtual_hosts(0).routes(0).route().cluster(), "inbound|8080||");
  EXPECT_EQ(chains[1]->filter_chain_match().application_protocols_size(), 0);
  TcpProxy tcp;
  ASSERT_TRUE(chains[1]->filters(0).typed_config().UnpackTo(&tcp));
  EXPECT_EQ(tcp.cluster(), "inbound|8080||");
}

TEST(ListenerTest, InboundClustersSpeakThePortsProtocolToTheApp) {
  std::string yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\n  namespace: default\nspec:\n"
                     "  selector: {app: app}\n  ports:\n  - {name: grpc-api, port: 80, targetPort: 8080}\n"
                     "  - {name: web, port: 81, targetPort: 8081}\n  - {name: http, port: 82, targetPort: 8082}\n---\n";
  auto r = CompileFor(ParseYaml(yaml), kNode, {{"app", "app"}});
  auto options = [&](const std::string& name) {
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions out;
    const auto* cluster = FindCluster(r, name);
    EXPECT_NE(cluster, nullptr) << name;
    if (cluster == nullptr) return out;
    auto it = cluster->typed_extension_protocol_options().find("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
    if (it != cluster->typed_extension_protocol_options().end()) {
      EXPECT_TRUE(it->second.UnpackTo(&out));
    }
    return out;
  };
  EXPECT_TRUE(options("inbound|8080||").explicit_http_config().has_http2_protocol_options());  // gRPC
  EXPECT_TRUE(options("inbound|8081||").has_use_downstream_protocol_config());                 // undeclared
  EXPECT_FALSE(FindCluster(r, "inbound|8082||")->typed_extension_protocol_options().contains(
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"));  // HTTP/1.1, Envoy's default
  // Istio's metadata: the service the inbound cluster delivers to.
  const auto& services = FindCluster(r, "inbound|8080||")->metadata().filter_metadata().at("istio").fields().at("services");
  ASSERT_EQ(services.list_value().values_size(), 1);
  const auto& service = services.list_value().values(0).struct_value().fields();
  EXPECT_EQ(service.at("host").string_value(), "app.default.svc.cluster.local");
  EXPECT_EQ(service.size(), 1u);  // one field: Struct maps print in no fixed order
}

TEST(ListenerTest, HttpConnectionManagersAllowWebSocketUpgrades) {
  auto r = CompileFor(ParseYaml(Mesh()), kNode);
  HttpConnectionManager hcm;
  ASSERT_TRUE(FindListener(r, "0.0.0.0_9080")->filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  ASSERT_EQ(hcm.upgrade_configs_size(), 1);
  EXPECT_EQ(hcm.upgrade_configs(0).upgrade_type(), "websocket");
}

TEST(ListenerTest, TheInboundPassthroughClusterLeavesFrom127_0_0_6) {
  auto r = CompileFor(ParseYaml(Mesh()), kNode);
  const auto* cluster = FindCluster(r, "InboundPassthroughCluster");
  ASSERT_NE(cluster, nullptr);
  // cmesh-init exempts 127.0.0.6 from the redirection to 15006 (see proxy/init).
  EXPECT_EQ(cluster->upstream_bind_config().source_address().address(), "127.0.0.6");
  ASSERT_EQ(cluster->upstream_bind_config().extra_source_addresses_size(), 1);
  EXPECT_EQ(cluster->upstream_bind_config().extra_source_addresses(0).address().address(), "::6");
  EXPECT_FALSE(FindCluster(r, "PassthroughCluster")->has_upstream_bind_config());
}

}  // namespace
}  // namespace cmesh::compiler::testing
