// Listener and filter chain selection for an outbound connection, as Istio's sidecar sets it up.
#include <gtest/gtest.h>

#include <set>

#include "cmesh/simulator/simulator.h"
#include "simulator_test_util.h"

namespace cmesh::simulator {
namespace {

using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using testing::FromJson;
using testing::Get;

const char kHcm[] = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const char kTcp[] = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

Simulator Sidecar() {
  std::vector<Listener> listeners = {
      FromJson<Listener>(std::string(R"({"name":"virtualOutbound","address":{"socket_address":{
          "address":"0.0.0.0","port_value":15001}},"use_original_dst":true,"filter_chains":[
          {"name":"virtualOutbound-catchall-tcp","filters":[{"name":"envoy.filters.network.tcp_proxy",
           "typed_config":{"@type":")") + kTcp + R"(","stat_prefix":"PassthroughCluster",
           "cluster":"PassthroughCluster"}}]}]})"),
      FromJson<Listener>(std::string(R"({"name":"0.0.0.0_9080","address":{"socket_address":{
          "address":"0.0.0.0","port_value":9080}},"bind_to_port":false,"filter_chains":[
          {"filter_chain_match":{"transport_protocol":"raw_buffer","application_protocols":["http/1.1","h2c"]},
           "name":"http","filters":[{"name":"envoy.filters.network.http_connection_manager",
           "typed_config":{"@type":")") + kHcm + R"(","stat_prefix":"outbound_0.0.0.0_9080",
           "rds":{"route_config_name":"9080"}}}]}]})"),
      FromJson<Listener>(std::string(R"({"name":"10.96.0.20_5432","address":{"socket_address":{
          "address":"10.96.0.20","port_value":5432}},"bind_to_port":false,"filter_chains":[
          {"filters":[{"name":"envoy.filters.network.tcp_proxy","typed_config":{"@type":")") + kTcp +
                         R"(","stat_prefix":"db","cluster":"outbound|5432||db.default.svc.cluster.local"}}]}]})"),
  };
  std::vector<RouteConfiguration> routes = {FromJson<RouteConfiguration>(
      R"({"name":"9080","ignore_port_in_host_matching":true,"virtual_hosts":[
        {"name":"reviews.default.svc.cluster.local:9080","domains":["reviews"],"routes":[
          {"name":"default","match":{"prefix":"/"},"route":{"cluster":"outbound|9080||reviews.default.svc.cluster.local"}}]},
        {"name":"allow_any","domains":["*"],"routes":[
          {"name":"allow_any","match":{"prefix":"/"},"route":{"cluster":"PassthroughCluster"}}]}]})")};
  return Simulator(std::move(listeners), std::move(routes));
}

TEST(ListenerSelectionTest, HttpPortGoesThroughRds) {
  Decision d = Sidecar().Simulate(Get("http://reviews:9080/"));
  EXPECT_EQ(d.listener, "0.0.0.0_9080");
  EXPECT_EQ(d.filter_chain, "http");
  EXPECT_TRUE(d.http);
  EXPECT_EQ(d.route_config, "9080");
  EXPECT_EQ(d.virtual_host, "reviews.default.svc.cluster.local:9080");
  EXPECT_EQ(d.cluster, "outbound|9080||reviews.default.svc.cluster.local");
}

TEST(ListenerSelectionTest, UnknownHostOnHttpPortHitsAllowAny) {
  Decision d = Sidecar().Simulate(Get("http://example.org:9080/"));
  EXPECT_EQ(d.virtual_host, "allow_any");
  EXPECT_EQ(d.cluster, "PassthroughCluster");
}

TEST(ListenerSelectionTest, IpBoundTcpListenerNeedsTheDestinationIp) {
  Request r = Get("http://db:5432/");
  r.destination_ip = "10.96.0.20";
  Decision d = Sidecar().Simulate(r);
  EXPECT_EQ(d.listener, "10.96.0.20_5432");
  EXPECT_EQ(d.outcome, Decision::Outcome::kTcpProxy);
  EXPECT_EQ(d.cluster, "outbound|5432||db.default.svc.cluster.local");
  EXPECT_FALSE(d.http);
}

TEST(ListenerSelectionTest, UnknownPortFallsBackToVirtualOutboundPassthrough) {
  Decision d = Sidecar().Simulate(Get("http://example.org:8443/"));
  EXPECT_EQ(d.listener, "virtualOutbound");
  EXPECT_EQ(d.outcome, Decision::Outcome::kTcpProxy);
  EXPECT_EQ(d.cluster, "PassthroughCluster");
  // The TCP listener is bound to its IP: another address on 5432 passes through too.
  Request other = Get("http://other:5432/");
  other.destination_ip = "10.96.0.99";
  EXPECT_EQ(Sidecar().Simulate(other).listener, "virtualOutbound");
}

TEST(ListenerSelectionTest, TlsDoesNotFitThePlainTextHttpChain) {
  // https to 9080 is TLS from the app: the raw_buffer HTTP chain does not apply.
  Decision d = Sidecar().Simulate(Get("https://reviews:9080/"));
  EXPECT_EQ(d.listener, "0.0.0.0_9080");
  EXPECT_EQ(d.outcome, Decision::Outcome::kNoFilterChain);
}

TEST(ListenerSelectionTest, TargetClusterMissingFromCdsIs503) {
  Simulator sidecar = Sidecar();
  // Rebuild with a CDS that lacks the reviews cluster but has the passthrough one.
  Simulator with_cds(
      {FromJson<Listener>(std::string(R"({"name":"0.0.0.0_9080","address":{"socket_address":{
          "address":"0.0.0.0","port_value":9080}},"filter_chains":[{"filters":[{"name":"hcm",
          "typed_config":{"@type":")") + kHcm + R"(","stat_prefix":"s","rds":{"route_config_name":"9080"}}}]}]})")},
      {FromJson<RouteConfiguration>(R"({"name":"9080","virtual_hosts":[
        {"name":"reviews","domains":["reviews:9080"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"outbound|9080||reviews.default.svc.cluster.local"}}]},
        {"name":"allow_any","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"PassthroughCluster"}}]}]})")},
      std::set<std::string>{"PassthroughCluster"});
  Decision missing = with_cds.Simulate(Get("http://reviews:9080/"));
  EXPECT_EQ(missing.missing_clusters, std::vector<std::string>{"outbound|9080||reviews.default.svc.cluster.local"});
  EXPECT_EQ(missing.LocalStatus(), 503u);
  Decision known = with_cds.Simulate(Get("http://other:9080/"));
  EXPECT_TRUE(known.missing_clusters.empty());
  EXPECT_EQ(known.LocalStatus(), 0u);
  // Without a CDS nothing is checked.
  EXPECT_TRUE(sidecar.Simulate(Get("http://reviews:9080/")).missing_clusters.empty());
}

TEST(ListenerSelectionTest, NoListenerAtAll) {
  Simulator empty({}, {});
  EXPECT_EQ(empty.Simulate(Get("http://x/")).outcome, Decision::Outcome::kNoListener);
}

TEST(ListenerSelectionTest, RouteByNameReportsMissingConfig) {
  Decision d = Sidecar().Route("8080", Get("http://reviews:8080/"));
  EXPECT_EQ(d.outcome, Decision::Outcome::kNoVirtualHost);
  ASSERT_FALSE(d.notes.empty());
}

}  // namespace
}  // namespace cmesh::simulator
