// connectionPool.tcp.idleTimeout (and maxConnectionDuration on the listener side). Istio applies
// it twice: on the cluster as common_http_protocol_options.idle_timeout when http.idleTimeout
// is unset (http.idleTimeout wins), and on the outbound tcp_proxy from the top-level
// connectionPool.tcp of the DestinationRule of the first route destination.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;
using envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
constexpr char kNode[] = "sidecar~10.0.0.5~client-1.default~default.svc.cluster.local";

std::string Dr(const std::string& host, const std::string& policy) {
  return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: " + host +
         "\n  namespace: default\nspec:\n  host: " + host + "\n" + policy + "---\n";
}

HttpProtocolOptions Options(const XdsResources& r, const std::string& cluster) {
  HttpProtocolOptions o;
  const auto* c = FindCluster(r, cluster);
  EXPECT_NE(c, nullptr) << cluster;
  if (c == nullptr) return o;
  auto it = c->typed_extension_protocol_options().find("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  EXPECT_NE(it, c->typed_extension_protocol_options().end()) << cluster;
  if (it != c->typed_extension_protocol_options().end()) {
    EXPECT_TRUE(it->second.UnpackTo(&o));
  }
  return o;
}

TcpProxy ProxyOf(const XdsResources& r, const std::string& listener) {
  TcpProxy p;
  const auto* l = FindListener(r, listener);
  EXPECT_NE(l, nullptr) << listener;
  if (l != nullptr) {
    EXPECT_TRUE(l->filter_chains(0).filters(0).typed_config().UnpackTo(&p));
  }
  return p;
}

TEST(IdleTimeoutTest, TcpIdleTimeoutOnHttpAndTcpClusters) {
  const std::string pool = "  trafficPolicy:\n    connectionPool:\n      tcp:\n        idleTimeout: 90s\n";
  auto r = CompileFor(ParseYaml(ServiceYaml("web", "default", {"http:80"}, "10.96.0.20") +
                                ServiceYaml("db", "default", {"tcp:5432"}, "10.96.0.21") + Dr("web", pool) +
                                Dr("db", pool)),
                      kNode);
  auto web = Options(r, "outbound|80||web.default.svc.cluster.local");
  EXPECT_EQ(web.common_http_protocol_options().idle_timeout().seconds(), 90);
  EXPECT_TRUE(web.explicit_http_config().has_http_protocol_options());
  auto db = Options(r, "outbound|5432||db.default.svc.cluster.local");
  EXPECT_EQ(db.common_http_protocol_options().idle_timeout().seconds(), 90);
  // Envoy requires an upstream protocol in HttpProtocolOptions; HTTP/1 is Istio's default.
  EXPECT_TRUE(db.explicit_http_config().has_http_protocol_options());
  for (const auto& w : r.warnings) EXPECT_EQ(w.find("idleTimeout"), std::string::npos) << w;
}

TEST(IdleTimeoutTest, HttpIdleTimeoutWinsOnTheCluster) {
  auto r = CompileFor(ParseYaml(ServiceYaml("web", "default", {"http:80"}) +
                                Dr("web", "  trafficPolicy:\n    connectionPool:\n      tcp:\n        idleTimeout: 90s\n"
                                          "      http:\n        idleTimeout: 15s\n")),
                      kNode);
  EXPECT_EQ(Options(r, "outbound|80||web.default.svc.cluster.local").common_http_protocol_options().idle_timeout().seconds(),
            15);
}

TEST(IdleTimeoutTest, TcpProxyTakesTheRuleLevelTcpSettings) {
  auto r = CompileFor(
      ParseYaml(ServiceYaml("db", "default", {"tcp:5432"}, "10.96.0.21") +
                ServiceYaml("cache", "default", {"tcp:6379"}, "10.96.0.22") +
                Dr("db", "  trafficPolicy:\n    connectionPool:\n      tcp:\n        idleTimeout: 2m\n"
                         "        maxConnectionDuration: 1h\n") +
                // Port-level settings shape the cluster only; Istio's tcp_proxy reads the
                // top-level connectionPool.
                Dr("cache", "  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 6379}\n"
                            "      connectionPool:\n        tcp:\n          idleTimeout: 5m\n")),
      kNode);
  auto db = ProxyOf(r, "10.96.0.21_5432");
  EXPECT_EQ(db.idle_timeout().seconds(), 120);
  EXPECT_EQ(db.max_downstream_connection_duration().seconds(), 3600);
  auto cache = ProxyOf(r, "10.96.0.22_6379");
  EXPECT_FALSE(cache.has_idle_timeout());  // Envoy's default (1h) applies
  EXPECT_EQ(Options(r, "outbound|6379||cache.default.svc.cluster.local").common_http_protocol_options().idle_timeout().seconds(),
            300);
}

TEST(IdleTimeoutTest, TcpProxyUsesTheFirstRouteDestinationsRule) {
  auto r = CompileFor(
      ParseYaml(ServiceYaml("db", "default", {"tcp:5432"}, "10.96.0.21") +
                ServiceYaml("db-v2", "default", {"tcp:5432"}, "10.96.0.23") +
                Dr("db", "  trafficPolicy:\n    connectionPool:\n      tcp:\n        idleTimeout: 2m\n") +
                Dr("db-v2", "  trafficPolicy:\n    connectionPool:\n      tcp:\n        idleTimeout: 7s\n") +
                "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: db\n  namespace: default\n"
                "spec:\n  hosts: [db]\n  tcp:\n  - route:\n    - destination: {host: db-v2}\n---\n"),
      kNode);
  EXPECT_EQ(ProxyOf(r, "10.96.0.21_5432").idle_timeout().seconds(), 7);
}

}  // namespace
}  // namespace cmesh::compiler::testing
