#include "listener_builder.h"

#include <algorithm>
#include <map>

#include "cluster_names.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "host_names.h"
#include "proto_util.h"
#include "route_policies.h"
#include "virtual_service_routes.h"

namespace cmesh::compiler {
namespace {

using envoy::config::listener::v3::Listener;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

constexpr char kHcmFilter[] = "envoy.filters.network.http_connection_manager";
constexpr char kTcpProxyFilter[] = "envoy.filters.network.tcp_proxy";
constexpr char kOriginalDstFilter[] = "envoy.filters.listener.original_dst";
constexpr char kHttpInspectorFilter[] = "envoy.filters.listener.http_inspector";

void SetAddress(const std::string& ip, uint32_t port, Listener* listener) {
  auto* sa = listener->mutable_address()->mutable_socket_address();
  sa->set_address(ip);
  sa->set_port_value(port);
}

void AddOriginalDst(Listener* listener) {
  auto* f = listener->add_listener_filters();
  f->set_name(kOriginalDstFilter);
  f->mutable_typed_config()->PackFrom(envoy::extensions::filters::listener::original_dst::v3::OriginalDst());
}

// Sniffing for the ports declared without a protocol: http_inspector marks connections that
// start with HTTP, so the chains asking for HTTP application protocols take them. Like Istio with
// meshConfig.protocolDetectionTimeout 0s: no timeout (a server-first protocol on an undeclared
// port waits for the client, which is why Istio asks such ports to be declared).
void AddHttpInspector(Listener* listener) {
  auto* f = listener->add_listener_filters();
  f->set_name(kHttpInspectorFilter);
  f->mutable_typed_config()->PackFrom(envoy::extensions::filters::listener::http_inspector::v3::HttpInspector());
  listener->mutable_listener_filters_timeout()->set_seconds(0);
  listener->set_continue_on_listener_filters_timeout(true);
}

void MatchHttpProtocols(envoy::config::listener::v3::FilterChain* chain) {
  auto* m = chain->mutable_filter_chain_match();
  m->add_application_protocols("http/1.1");
  m->add_application_protocols("h2c");
}

void AddTcpProxy(const TcpProxy& proxy, envoy::config::listener::v3::FilterChain* chain) {
  auto* f = chain->add_filters();
  f->set_name(kTcpProxyFilter);
  f->mutable_typed_config()->PackFrom(proxy);
}

TcpProxy TcpProxyTo(const std::string& cluster) {
  TcpProxy p;
  p.set_stat_prefix(cluster);
  p.set_cluster(cluster);
  return p;
}

// fault, cors, then the router, which must be last.
void AddHttpFilters(HttpConnectionManager* hcm) {
  auto* fault = hcm->add_http_filters();
  fault->set_name(kFaultFilter);
  fault->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::fault::v3::HTTPFault());
  auto* cors = hcm->add_http_filters();
  cors->set_name(kCorsFilter);
  cors->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::cors::v3::Cors());
  auto* router = hcm->add_http_filters();
  router->set_name(kRouterFilter);
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
}

void AddHcm(HttpConnectionManager hcm, envoy::config::listener::v3::FilterChain* chain) {
  // WebSocket upgrades pass through, as Istio allows them on every HTTP listener.
  hcm.add_upgrade_configs()->set_upgrade_type("websocket");
  auto* f = chain->add_filters();
  f->set_name(kHcmFilter);
  f->mutable_typed_config()->PackFrom(hcm);
}

}  // namespace

Listener BuildVirtualOutbound(const MeshOptions& options) {
  Listener l;
  l.set_name("virtualOutbound");
  SetAddress("0.0.0.0", options.outbound_port, &l);
  l.mutable_use_original_dst()->set_value(true);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  AddOriginalDst(&l);
  AddHttpInspector(&l);
  auto* loop = l.add_filter_chains();
  loop->set_name("virtualOutbound-blackhole");
  loop->mutable_filter_chain_match()->mutable_destination_port()->set_value(options.outbound_port);
  AddTcpProxy(TcpProxyTo(kBlackHoleCluster), loop);
  auto* def = l.mutable_default_filter_chain();
  def->set_name("PassthroughFilterChain");
  bool allow = options.outbound_policy == MeshOptions::OutboundPolicy::kAllowAny;
  AddTcpProxy(TcpProxyTo(allow ? kPassthroughCluster : kBlackHoleCluster), def);
  return l;
}

Listener BuildVirtualInbound(const std::vector<InboundPort>& ports, const MeshOptions& options) {
  Listener l;
  l.set_name("virtualInbound");
  SetAddress("0.0.0.0", options.inbound_port, &l);
  l.set_traffic_direction(envoy::config::core::v3::INBOUND);
  AddOriginalDst(&l);
  AddHttpInspector(&l);
  auto* loop = l.add_filter_chains();
  loop->set_name("virtualInbound-blackhole");
  loop->mutable_filter_chain_match()->mutable_destination_port()->set_value(options.inbound_port);
  AddTcpProxy(TcpProxyTo(kBlackHoleCluster), loop);
  for (const auto& p : ports) {
    const std::string cluster = InboundClusterName(p.target_port);
    auto* chain = l.add_filter_chains();
    chain->set_name("0.0.0.0_" + std::to_string(p.target_port));
    chain->mutable_filter_chain_match()->mutable_destination_port()->set_value(p.target_port);
    if (IsSniffed(p.protocol)) {
      // HTTP when it starts like HTTP (this chain), anything else through the TCP chain below.
      MatchHttpProtocols(chain);
    }
    if (HasHttpRoutes(p.protocol)) {
      HttpConnectionManager hcm;
      hcm.set_stat_prefix("inbound_0.0.0.0_" + std::to_string(p.target_port));
      auto* rc = hcm.mutable_route_config();
      rc->set_name(cluster);
      rc->mutable_validate_clusters()->set_value(false);
      auto* vh = rc->add_virtual_hosts();
      vh->set_name("inbound|http|" + std::to_string(p.target_port));
      vh->add_domains("*");
      auto* route = vh->add_routes();
      route->set_name("default");
      route->mutable_match()->set_prefix("/");
      route->mutable_route()->set_cluster(cluster);
      SetRouteTimeout(std::nullopt, route->mutable_route());
      AddHttpFilters(&hcm);
      AddHcm(hcm, chain);
    }
    if (IsSniffed(p.protocol)) {
      chain = l.add_filter_chains();
      chain->set_name("0.0.0.0_" + std::to_string(p.target_port) + "_tcp");
      chain->mutable_filter_chain_match()->mutable_destination_port()->set_value(p.target_port);
    }
    if (!IsHttp(p.protocol)) AddTcpProxy(TcpProxyTo(cluster), chain);
  }
  auto* def = l.mutable_default_filter_chain();
  def->set_name("InboundPassthroughFilterChain");
  AddTcpProxy(TcpProxyTo(kInboundPassthroughCluster), def);
  return l;
}

Listener BuildHttpOutboundListener(uint32_t port) {
  Listener l;
  l.set_name("0.0.0.0_" + std::to_string(port));
  SetAddress("0.0.0.0", port, &l);
  l.mutable_bind_to_port()->set_value(false);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  HttpConnectionManager hcm;
  hcm.set_stat_prefix("outbound_0.0.0.0_" + std::to_string(port));
  auto* rds = hcm.mutable_rds();
  SetAds(rds->mutable_config_source());
  rds->set_route_config_name(std::to_string(port));
  AddHttpFilters(&hcm);
  AddHcm(hcm, l.add_filter_chains());
  return l;
}

namespace {

bool L4MatchApplies(const model::L4MatchAttributes& m, const ProxyView& view, uint32_t port) {
  if (m.port && *m.port != port) return false;
  if (!m.source_labels.empty() && !LabelsContain(view.labels(), m.source_labels)) return false;
  if (!m.source_namespace.empty() && m.source_namespace != view.proxy().ns) return false;
  if (!m.gateways.empty() && std::find(m.gateways.begin(), m.gateways.end(), "mesh") == m.gateways.end()) {
    return false;
  }
  return true;
}

// Istio's outbound tcp_proxy takes idleTimeout and maxConnectionDuration from the top-level
// connectionPool.tcp of the DestinationRule of the first route destination's host (not from
// port-level or subset policies, which only shape the clusters). Unset, Envoy's defaults apply
// (idle 1h, no maximum duration).
void ApplyTcpConnectionPool(const model::DestinationRule* rule, TcpProxy* proxy) {
  if (rule == nullptr || !rule->traffic_policy || !rule->traffic_policy->connection_pool ||
      !rule->traffic_policy->connection_pool->tcp) {
    return;
  }
  const model::TCPSettings& tcp = *rule->traffic_policy->connection_pool->tcp;
  if (tcp.idle_timeout) SetDuration(*tcp.idle_timeout, proxy->mutable_idle_timeout());
  if (tcp.max_connection_duration) {
    SetDuration(*tcp.max_connection_duration, proxy->mutable_max_downstream_connection_duration());
  }
}

}  // namespace

std::vector<Listener> BuildTcpOutboundListeners(const ProxyView& view, std::vector<std::string>* warnings) {
  std::vector<Listener> out;
  for (const auto* svc : view.services()) {
    const std::string& ip = svc->service->cluster_ip;
    if (ip.empty() || ip == "None") continue;
    for (const auto& p : svc->ports) {
      if (IsHttp(p.protocol) || p.protocol == Protocol::kUdp) continue;
      const uint32_t port = p.port->port;
      TcpProxy proxy = TcpProxyTo(OutboundClusterName(port, "", svc->fqdn));
      const model::DestinationRule* rule_for_proxy = view.RuleFor(*svc).rule;
      if (const auto* ivs = view.VirtualServiceFor(svc->fqdn)) {
        const auto& vs = *ivs->vs;
        for (const auto& rule : vs.tcp) {
          bool applies = rule.match.empty();
          for (const auto& m : rule.match) {
            if (!m.destination_subnets.empty()) {
              warnings->push_back("VirtualService " + vs.meta.ns + "/" + vs.meta.name +
                                  ": tcp match destinationSubnets is not supported yet and is ignored");
            }
            applies = applies || L4MatchApplies(m, view, port);
          }
          if (!applies) continue;
          std::vector<std::pair<std::string, uint32_t>> clusters;
          if (!rule.route.empty()) {
            ResolvedDestination first = ResolveDestination(rule.route[0].destination, vs.meta.ns, view, port);
            rule_for_proxy = view
                                 .RuleForHost(first.fqdn, first.service ? first.service->service->meta.ns
                                                                        : std::string())
                                 .rule;
          }
          for (const auto& d : rule.route) {
            int32_t w = d.weight.value_or(rule.route.size() == 1 ? 100 : 0);
            if (w <= 0) continue;
            clusters.emplace_back(ResolveDestination(d.destination, vs.meta.ns, view, port).cluster,
                                  static_cast<uint32_t>(w));
          }
          if (clusters.size() == 1) {
            proxy = TcpProxyTo(clusters[0].first);
          } else if (clusters.size() > 1) {
            proxy.clear_cluster();
            for (const auto& [name, w] : clusters) {
              auto* c = proxy.mutable_weighted_clusters()->add_clusters();
              c->set_name(name);
              c->set_weight(w);
            }
          }
          break;  // first applicable tcp route wins
        }
      }
      ApplyTcpConnectionPool(rule_for_proxy, &proxy);
      Listener l;
      l.set_name(ip + "_" + std::to_string(port));
      SetAddress(ip, port, &l);
      l.mutable_bind_to_port()->set_value(false);
      l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
      if (IsSniffed(p.protocol)) {
        // Undeclared protocol: HTTP is routed with the port's route configuration (which has
        // this service's virtual host), the rest goes through tcp_proxy as a TCP port would.
        auto* http = l.add_filter_chains();
        MatchHttpProtocols(http);
        HttpConnectionManager hcm;
        hcm.set_stat_prefix("outbound_" + ip + "_" + std::to_string(port));
        auto* rds = hcm.mutable_rds();
        SetAds(rds->mutable_config_source());
        rds->set_route_config_name(std::to_string(port));
        AddHttpFilters(&hcm);
        AddHcm(hcm, http);
      }
      AddTcpProxy(proxy, l.add_filter_chains());
      out.push_back(std::move(l));
    }
  }
  return out;
}

}  // namespace cmesh::compiler
