// Decides what an Envoy sidecar does with an outbound request, from its Listeners and
// RouteConfigurations alone: the listener chosen by destination address, the route configuration,
// the virtual host (Envoy's domain matching), the first matching route, and its action. It reads
// Envoy resources only, so it checks any xDS producer the way Envoy would see its output.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/simulator/decision.h"
#include "cmesh/simulator/request.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace cmesh::simulator {

class Simulator {
 public:
  // With `cluster_names` (the proxy's CDS), a decision also says which target clusters the
  // proxy does not have (Envoy's 503 NC); without it clusters are not checked.
  Simulator(std::vector<envoy::config::listener::v3::Listener> listeners,
            std::vector<envoy::config::route::v3::RouteConfiguration> routes,
            std::optional<std::set<std::string>> cluster_names = std::nullopt);

  // The whole path: listener → filter chain → HTTP connection manager (RDS) or tcp_proxy → route.
  Decision Simulate(const Request& request) const;

  // Only the HTTP routing step, against the RouteConfiguration named `route_config`
  // (kNoVirtualHost when there is no such configuration).
  Decision Route(std::string_view route_config, const Request& request) const;

  // Routing against a given RouteConfiguration, filling `decision` from the virtual host on.
  static void RouteWith(const envoy::config::route::v3::RouteConfiguration& config,
                        const Request& request, Decision& decision);

 private:
  std::vector<envoy::config::listener::v3::Listener> listeners_;
  std::vector<envoy::config::route::v3::RouteConfiguration> routes_;
  std::optional<std::set<std::string>> cluster_names_;

  void CheckClusters(Decision& decision) const;
};

}  // namespace cmesh::simulator
