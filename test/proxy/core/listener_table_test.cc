// The listener compiler: which filter chain a connection gets, and what cmesh-proxy refuses.
#include "cmesh/proxy_core/listener_table.h"

#include <google/protobuf/util/json_util.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../../proxy/core/src/connection_dispatch.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace cmesh::proxy_core {
namespace {

using ::testing::HasSubstr;

envoy::config::listener::v3::Listener ListenerFromJson(const std::string& json) {
  // Link the typed configs' messages so the JSON parser knows their type URLs.
  EXPECT_NE(envoy::extensions::filters::http::router::v3::Router::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::filters::listener::http_inspector::v3::HttpInspector::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::filters::listener::original_dst::v3::OriginalDst::descriptor(), nullptr);
  EXPECT_NE(envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::descriptor(),
            nullptr);
  envoy::config::listener::v3::Listener listener;
  auto status = google::protobuf::util::JsonStringToMessage(json, &listener);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return listener;
}

std::string Tcp(const std::string& cluster) {
  return R"({"name":"envoy.filters.network.tcp_proxy","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy","statPrefix":"x","cluster":")" +
         cluster + R"("}})";
}

std::string Hcm(const std::string& rds) {
  return R"({"name":"envoy.filters.network.http_connection_manager","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager","statPrefix":"x","rds":{"configSource":{"ads":{}},"routeConfigName":")" +
         rds + R"("},"httpFilters":[{"name":"envoy.filters.http.router","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}})";
}

constexpr char kInspectors[] =
    R"("listenerFilters":[{"name":"envoy.filters.listener.original_dst","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst"}},
        {"name":"envoy.filters.listener.http_inspector","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector"}}])";

std::shared_ptr<const CompiledListener> Build(const std::string& json, std::string* error = nullptr) {
  std::string why;
  auto listener = CompiledListener::Build(ListenerFromJson(json), nullptr, &why);
  if (error) *error = why;
  EXPECT_TRUE(listener || error) << why;
  return listener;
}

// Istio's virtualInbound shape: a chain per port, a more specific prefix chain, a sniffed port,
// and the passthrough default.
std::string Inbound() {
  return R"({"name":"virtualInbound","address":{"socketAddress":{"address":"0.0.0.0","portValue":15006}},
    "trafficDirection":"INBOUND",)" + std::string(kInspectors) + R"(,
    "filterChains":[
      {"name":"http-9080","filterChainMatch":{"destinationPort":9080},"filters":[)" + Hcm("inbound|9080||") + R"(]},
      {"name":"tcp-3306","filterChainMatch":{"destinationPort":3306},"filters":[)" + Tcp("inbound|3306||") + R"(]},
      {"name":"tcp-3306-narrow","filterChainMatch":{"destinationPort":3306,"prefixRanges":[{"addressPrefix":"10.1.0.0","prefixLen":16}]},
       "filters":[)" + Tcp("narrow") + R"(]},
      {"name":"sniff-http","filterChainMatch":{"destinationPort":7000,"applicationProtocols":["http/1.1","h2c"]},
       "filters":[)" + Hcm("inbound|7000||") + R"(]},
      {"name":"sniff-tcp","filterChainMatch":{"destinationPort":7000},"filters":[)" + Tcp("inbound|7000||") + R"(]},
      {"name":"any-port-http-only","filterChainMatch":{"applicationProtocols":["http/1.1"]},"filters":[)" + Hcm("any") + R"(]}],
    "defaultFilterChain":{"name":"InboundPassthroughFilterChain","filters":[)" + Tcp("InboundPassthroughCluster") + R"(]}})";
}

TEST(ListenerTableTest, AnExactPortChainServesItsPort) {
  auto listener = Build(Inbound());
  ASSERT_TRUE(listener);
  EXPECT_EQ(listener->direction(), CompiledListener::Direction::kInbound);
  auto http = listener->Select({"10.2.0.5", 9080});
  ASSERT_TRUE(http.other);
  EXPECT_EQ(http.http, nullptr);
  EXPECT_EQ(http.other->name, "http-9080");
  EXPECT_EQ(http.other->kind, ChainAction::Kind::kHttp);
  EXPECT_EQ(http.other->rds, "inbound|9080||");
}

TEST(ListenerTableTest, TheLongestDestinationPrefixWinsWithinAPort) {
  auto listener = Build(Inbound());
  ASSERT_TRUE(listener);
  EXPECT_EQ(listener->Select({"10.1.7.7", 3306}).other->name, "tcp-3306-narrow");
  auto wide = listener->Select({"10.2.7.7", 3306});
  EXPECT_EQ(wide.other->name, "tcp-3306");
  ASSERT_EQ(wide.other->tcp_clusters.size(), 1u);
  EXPECT_EQ(wide.other->tcp_clusters[0].cluster, "inbound|3306||");
}

TEST(ListenerTableTest, ASniffedPortOffersAnHttpAndAnOtherChain) {
  auto listener = Build(Inbound());
  ASSERT_TRUE(listener);
  auto sniffed = listener->Select({"10.2.0.5", 7000});
  ASSERT_TRUE(sniffed.http && sniffed.other);
  EXPECT_EQ(sniffed.http->name, "sniff-http");
  EXPECT_EQ(sniffed.other->name, "sniff-tcp");
}

TEST(ListenerTableTest, AnUndeclaredPortFallsToTheAnyPortGroupThenTheDefaultChain) {
  auto listener = Build(Inbound());
  ASSERT_TRUE(listener);
  // The port-less group has only an HTTP chain: HTTP goes there, the rest to the default.
  auto other = listener->Select({"10.2.0.5", 5555});
  ASSERT_TRUE(other.http && other.other);
  EXPECT_EQ(other.http->name, "any-port-http-only");
  EXPECT_EQ(other.other->name, "InboundPassthroughFilterChain");
}

TEST(ListenerTableTest, HttpChainsNeverMatchWithoutTheHttpInspector) {
  std::string json = Inbound();
  json.replace(json.find(kInspectors), std::string(kInspectors).size(), R"("listenerFilters":[])");
  auto listener = Build(json);
  ASSERT_TRUE(listener);
  auto sniffed = listener->Select({"10.2.0.5", 7000});
  EXPECT_EQ(sniffed.http, nullptr);
  EXPECT_EQ(sniffed.other->name, "sniff-tcp");
}

TEST(ListenerTableTest, WeightedTcpClustersKeepTheirWeightsAndTimeouts) {
  auto listener = Build(R"({"name":"10.0.0.9_3306","address":{"socketAddress":{"address":"10.0.0.9","portValue":3306}},
    "bindToPort":false,"filterChains":[{"filters":[{"name":"envoy.filters.network.tcp_proxy","typedConfig":{
      "@type":"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy","statPrefix":"db",
      "weightedClusters":{"clusters":[{"name":"db-v1","weight":80},{"name":"db-v2","weight":20},{"name":"never","weight":0}]},
      "idleTimeout":"30s","maxDownstreamConnectionDuration":"2s"}}]}]})");
  ASSERT_TRUE(listener);
  EXPECT_FALSE(listener->bind_to_port());
  const ChainAction* action = listener->Select({"10.0.0.9", 3306}).other;
  ASSERT_TRUE(action);
  ASSERT_EQ(action->tcp_clusters.size(), 2u);  // a zero weight is never drawn
  EXPECT_EQ(action->tcp_clusters[1].cluster, "db-v2");
  EXPECT_EQ(action->tcp_total_weight, 100u);
  EXPECT_EQ(action->tcp_idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(action->max_connection_duration, std::chrono::seconds(2));
}

TEST(ListenerTableTest, AnInlineRouteConfigurationIsCompiled) {
  auto listener = Build(R"({"name":"in","address":{"socketAddress":{"address":"0.0.0.0","portValue":15006}},
    "filterChains":[{"filterChainMatch":{"destinationPort":9080},"filters":[{"name":"envoy.filters.network.http_connection_manager",
      "typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
      "statPrefix":"in","commonHttpProtocolOptions":{"idleTimeout":"7s"},
      "routeConfig":{"name":"inbound|9080||","virtualHosts":[{"name":"in","domains":["*"],"routes":[{"match":{"prefix":"/"},
        "route":{"cluster":"inbound|9080||"}}]}]},
      "httpFilters":[{"name":"envoy.filters.http.router","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]})");
  ASSERT_TRUE(listener);
  const ChainAction* action = listener->Select({"10.0.0.1", 9080}).other;
  ASSERT_TRUE(action && action->inline_routes);
  EXPECT_TRUE(action->rds.empty());
  EXPECT_EQ(action->http_idle_timeout, std::chrono::seconds(7));
}

TEST(ListenerTableTest, WhatTheWorkersCannotDoIsRefusedWithTheChainAndTheReason) {
  std::string error;
  EXPECT_FALSE(Build(R"({"name":"l","filterChains":[{"name":"tls","transportSocket":{"name":"envoy.transport_sockets.tls"},
    "filters":[)" + Tcp("c") + "]}]}", &error));
  EXPECT_THAT(error, HasSubstr("filter chain \"tls\": transport_socket (TLS) is not supported"));
  EXPECT_FALSE(Build(R"({"name":"l","filterChains":[{"name":"rbac","filters":[{"name":"envoy.filters.network.rbac"},)" + Tcp("c") + "]}]}",
                     &error));
  EXPECT_THAT(error, HasSubstr("network filter \"envoy.filters.network.rbac\" is not supported"));
  EXPECT_FALSE(Build(R"({"name":"l","filterChains":[{"name":"src","filterChainMatch":{"sourcePrefixRanges":[{"addressPrefix":"10.0.0.0","prefixLen":8}]},
    "filters":[)" + Tcp("c") + "]}]}", &error));
  EXPECT_THAT(error, HasSubstr("filter chain \"src\": filter_chain_match on server names or the source"));
  EXPECT_FALSE(Build(R"({"name":"l","filterChains":[{"name":"p","filterChainMatch":{"prefixRanges":[{"addressPrefix":"10.0.0.0","prefixLen":33}]},
    "filters":[)" + Tcp("c") + "]}]}", &error));
  EXPECT_THAT(error, HasSubstr("prefix_len 33 is too long"));
  EXPECT_FALSE(Build(R"({"name":"l","filterChains":[{"name":"none","filters":[{"name":"envoy.filters.network.tcp_proxy","typedConfig":{
      "@type":"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy","statPrefix":"x"}}]}]})", &error));
  EXPECT_THAT(error, HasSubstr("tcp_proxy names no cluster"));
}

TEST(ListenerTableTest, PrefixesMatchByFamilyAndLength) {
  AddressPrefix p;
  p.v6 = false;
  p.bytes[0] = 10;
  p.bytes[1] = 1;
  p.length = 16;
  EXPECT_TRUE(p.Contains("10.1.200.3"));
  EXPECT_FALSE(p.Contains("10.2.0.1"));
  EXPECT_FALSE(p.Contains("::ffff:10.1.0.1"));  // the other family
  EXPECT_FALSE(p.Contains("junk"));
  p.length = 12;  // 10.0.0.0/12 covers 10.0–10.15
  EXPECT_TRUE(p.Contains("10.15.0.1"));
  EXPECT_FALSE(p.Contains("10.16.0.1"));
}

TEST(SniffProtocolTest, TheHttp2PrefaceAndHttp1RequestLinesAreHttp) {
  EXPECT_EQ(SniffProtocol("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Sniffed::kHttp);
  EXPECT_EQ(SniffProtocol("PRI * HTTP/2"), Sniffed::kNeedMore);
  EXPECT_EQ(SniffProtocol("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Sniffed::kHttp);
  EXPECT_EQ(SniffProtocol("POST /x?y=1 HTTP/1.0\r\n"), Sniffed::kHttp);
  EXPECT_EQ(SniffProtocol("GET /long/path"), Sniffed::kNeedMore);
  EXPECT_EQ(SniffProtocol("GET / HTT"), Sniffed::kNeedMore);
}

TEST(SniffProtocolTest, OtherBytesAreNotHttp) {
  EXPECT_EQ(SniffProtocol(std::string("\x16\x03\x01\x02\x00", 5)), Sniffed::kOther);  // a TLS ClientHello
  EXPECT_EQ(SniffProtocol("*1\r\n$4\r\nPING\r\n"), Sniffed::kOther);                    // Redis
  EXPECT_EQ(SniffProtocol("GET / SPDY/3\r\n"), Sniffed::kOther);
  EXPECT_EQ(SniffProtocol("GET /\r\n"), Sniffed::kOther);  // HTTP/0.9 is not served
  EXPECT_EQ(SniffProtocol("hello world\n"), Sniffed::kOther);
  EXPECT_EQ(SniffProtocol(" GET / HTTP/1.1\r\n"), Sniffed::kOther);
}

}  // namespace
}  // namespace cmesh::proxy_core
