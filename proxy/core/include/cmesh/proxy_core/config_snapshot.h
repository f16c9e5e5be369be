// What the workers route with: the xDS client's accepted resources turned into the proxy's
// compiled forms (route tables, clusters with their endpoints, the HTTP route configuration of
// each outbound port). Immutable and shared by every worker; a new one is built per xDS update
// on the main side and posted to the workers, which swap their pointer between requests.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/proxy_core/listener_table.h"
#include "cmesh/proxy_core/route_table_cache.h"
#include "cmesh/router/route_table.h"
#include "cmesh/upstream/cluster_info.h"
#include "cmesh/xds_client/xds_state.h"

namespace cmesh::proxy_core {

struct ConfigSnapshot {
  // The state it was built from: the next build compares its resources with this one's to reuse
  // what did not change.
  xds_client::XdsStatePtr source;
  std::map<std::string, std::shared_ptr<const router::RouteTable>, std::less<>> routes;
  std::map<std::string, std::shared_ptr<const upstream::ClusterInfo>, std::less<>> clusters;
  // The RouteConfiguration an HTTP connection to ADDRESS:PORT uses, from the listeners whose
  // filter chain holds an HttpConnectionManager with RDS: Istio's "0.0.0.0_9080" listeners
  // (bind_to_port false) give the port's routes; an "IP_PORT" listener overrides for that IP.
  std::map<std::pair<std::string, std::uint16_t>, std::string, std::less<>> http_routes;
  // Every listener, compiled, by name; and by address (IP and port) for the handoff from the
  // virtual outbound listener to the listener of the destination ("10.0.0.5_3306", then
  // "0.0.0.0_9080"), as Envoy's use_original_dst does.
  std::map<std::string, std::shared_ptr<const CompiledListener>, std::less<>> listeners;
  std::map<std::pair<std::string, std::uint16_t>, const CompiledListener*> listeners_by_address;
  // What ListenerAt answers, worked out once per snapshot rather than per connection: the
  // listeners bound to a port, by (inbound, port), and the virtual ones of each direction.
  std::map<std::pair<bool, std::uint16_t>, const CompiledListener*> bound_listeners;
  const CompiledListener* virtual_inbound = nullptr;
  const CompiledListener* virtual_outbound = nullptr;
  std::uint64_t generation = 0;  // the XdsState's

  // The route table for a connection to ip:port (IP-specific listener first, then 0.0.0.0);
  // nullptr when no HTTP listener covers the port or its routes have not arrived.
  const router::RouteTable* RoutesFor(std::string_view ip, std::uint16_t port) const;
  const upstream::ClusterInfo* Cluster(std::string_view name) const;
  std::shared_ptr<const upstream::ClusterInfo> SharedCluster(std::string_view name) const;

  // The filter chain candidates for a connection accepted on `local` (the proxy's own listener)
  // whose original destination is `destination`: on the inbound listener, its chains; on the
  // outbound one, the chains of the destination's listener (IP-specific first, then 0.0.0.0),
  // else the virtual listener's own chains and default chain. The listener for `local` is the
  // one bound to its port with the given direction (see ListenerAt).
  CompiledListener::Selection SelectChain(bool inbound, const event::Endpoint& local,
                                          const event::Endpoint& destination) const;
  const CompiledListener* ListenerAt(bool inbound, std::uint16_t port) const;
};

using ConfigSnapshotPtr = std::shared_ptr<const ConfigSnapshot>;

// Builds the snapshot for `state`, reusing the compiled route tables and clusters of `previous`
// whose resources are the same objects (the xDS client keeps unchanged resources as they were);
// only the others are decoded.
// Resources that cannot be compiled are reported in *errors (as "RDS name: why") and left out;
// the xDS client's validator refuses them first, so this only happens on the client's
// deliberate gaps.
// `routes` (may be null) is where the validator left the tables it compiled.
ConfigSnapshotPtr BuildSnapshot(const xds_client::XdsStatePtr& state, const ConfigSnapshot* previous,
                                std::vector<std::string>* errors, RouteTableCache* routes = nullptr);

}  // namespace cmesh::proxy_core
