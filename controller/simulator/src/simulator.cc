#include "cmesh/simulator/simulator.h"

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "listener_selector.h"
#include "matchers.h"
#include "route_action.h"
#include "virtual_host_selector.h"

namespace cmesh::simulator {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

}  // namespace

Simulator::Simulator(std::vector<envoy::config::listener::v3::Listener> listeners,
                     std::vector<envoy::config::route::v3::RouteConfiguration> routes,
                     std::optional<std::set<std::string>> cluster_names)
    : listeners_(std::move(listeners)), routes_(std::move(routes)), cluster_names_(std::move(cluster_names)) {}

void Simulator::CheckClusters(Decision& decision) const {
  if (!cluster_names_) return;
  auto check = [&](const std::string& name) {
    if (!name.empty() && cluster_names_->count(name) == 0) decision.missing_clusters.push_back(name);
  };
  if (decision.outcome == Decision::Outcome::kCluster || decision.outcome == Decision::Outcome::kTcpProxy) {
    check(decision.cluster);
  }
  for (const auto& w : decision.weighted_clusters) check(w.cluster);
}

void Simulator::RouteWith(const envoy::config::route::v3::RouteConfiguration& config,
                          const Request& request, Decision& decision) {
  decision.http = true;
  VirtualHostMatch vh = SelectVirtualHost(config, request.Authority());
  if (!vh.virtual_host) {
    decision.outcome = Decision::Outcome::kNoVirtualHost;
    return;
  }
  decision.virtual_host = vh.virtual_host->name();
  decision.matched_domain = vh.domain;
  for (int i = 0; i < vh.virtual_host->routes_size(); ++i) {
    const auto& route = vh.virtual_host->routes(i);
    RouteMatchResult result = MatchRoute(route.match(), request);
    if (!result.matched) continue;
    decision.route_index = i;
    ApplyRoute(*vh.virtual_host, route, request, result.matched_prefix_length, decision);
    return;
  }
  decision.outcome = Decision::Outcome::kNoRoute;
}

Decision Simulator::Route(std::string_view route_config, const Request& request) const {
  Decision decision;
  decision.route_config = std::string(route_config);
  for (const auto& config : routes_) {
    if (config.name() == route_config) {
      RouteWith(config, request, decision);
      CheckClusters(decision);
      return decision;
    }
  }
  decision.http = true;
  decision.outcome = Decision::Outcome::kNoVirtualHost;
  decision.notes.push_back("no RouteConfiguration named \"" + std::string(route_config) + "\"");
  return decision;
}

Decision Simulator::Simulate(const Request& request) const {
  Decision decision;
  ListenerMatch lm = SelectListener(listeners_, request);
  decision.notes = lm.notes;
  if (!lm.listener) {
    decision.outcome = Decision::Outcome::kNoListener;
    return decision;
  }
  decision.listener = lm.listener->name();
  if (!lm.filter_chain) {
    decision.outcome = Decision::Outcome::kNoFilterChain;
    return decision;
  }
  decision.filter_chain = lm.filter_chain->name();
  for (const auto& filter : lm.filter_chain->filters()) {
    HttpConnectionManager hcm;
    if (filter.typed_config().Is<HttpConnectionManager>() && filter.typed_config().UnpackTo(&hcm)) {
      if (hcm.has_rds()) {
        Decision routed = Route(hcm.rds().route_config_name(), request);
        routed.listener = decision.listener;
        routed.filter_chain = decision.filter_chain;
        routed.notes.insert(routed.notes.begin(), decision.notes.begin(), decision.notes.end());
        return routed;
      }
      decision.route_config = "(inline)";
      RouteWith(hcm.route_config(), request, decision);
      CheckClusters(decision);
      return decision;
    }
    TcpProxy tcp;
    if (filter.typed_config().Is<TcpProxy>() && filter.typed_config().UnpackTo(&tcp)) {
      if (tcp.has_weighted_clusters()) {
        decision.outcome = Decision::Outcome::kWeightedClusters;
        uint64_t total = 0;
        for (const auto& c : tcp.weighted_clusters().clusters()) total += c.weight();
        for (const auto& c : tcp.weighted_clusters().clusters()) {
          decision.weighted_clusters.push_back(
              {c.name(), c.weight(), total == 0 ? 0 : 100.0 * c.weight() / static_cast<double>(total)});
        }
      } else {
        decision.outcome = Decision::Outcome::kTcpProxy;
        decision.cluster = tcp.cluster();
      }
      CheckClusters(decision);
      return decision;
    }
  }
  decision.outcome = Decision::Outcome::kNoFilterChain;
  decision.notes.push_back("the filter chain has neither an HTTP connection manager nor tcp_proxy");
  return decision;
}

}  // namespace cmesh::simulator
