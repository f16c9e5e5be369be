// VirtualService http[] rules → Envoy routes for one proxy and one listener port.
#pragma once

#include <string>
#include <vector>

#include "envoy/config/route/v3/route_components.pb.h"
#include "proxy_view.h"

namespace cmesh::compiler {

// Where a destination goes: its cluster name, after Istio's port resolution (destination.port,
// else the only port of a single-port service, else the listener's port).
struct ResolvedDestination {
  std::string fqdn;
  uint32_t port = 0;
  std::string cluster;
  const IndexedService* service = nullptr;  // nullptr when the host is not a visible service
};

ResolvedDestination ResolveDestination(const model::Destination& destination, const std::string& vs_namespace,
                                       const ProxyView& view, uint32_t listener_port);

// Route hash policies for a destination whose DestinationRule uses consistentHash.
std::vector<envoy::config::route::v3::RouteAction::HashPolicy> HashPolicyForDestination(
    const ResolvedDestination& destination, const std::string& subset, const ProxyView& view);

// The routes of `vs` for `listener_port`, in first-match order. Matches that cannot apply to this
// proxy (port, sourceLabels, sourceNamespace, gateways) are dropped; a rule whose matches all
// drop is dropped; a catch-all rule ends the list. Empty when nothing applies.
std::vector<envoy::config::route::v3::Route> BuildVirtualServiceRoutes(const IndexedVirtualService& vs,
                                                                       const ProxyView& view,
                                                                       uint32_t listener_port,
                                                                       std::vector<std::string>* warnings);

// "/apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME" under
// filter_metadata["istio"]["config"], as Istio marks the routes it generates.
void SetConfigMetadata(const model::ObjectMeta& meta, envoy::config::route::v3::Route* route);

}  // namespace cmesh::compiler
