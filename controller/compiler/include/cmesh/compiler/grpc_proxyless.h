// Output for proxyless gRPC clients (gRFC A27 xDS-based global load balancing, A28 xDS routing).
//
// A gRPC client dialling `xds:///reviews.default.svc.cluster.local:9080` asks LDS for exactly
// `reviews.default.svc.cluster.local:9080` and then follows the references: the listener's RDS
// name, the routes' clusters, the clusters' EDS names. Istio (pilot's grpcgen) serves such
// clients, marked by node metadata GENERATOR=grpc, one api_listener per requested `HOST:PORT`
// and names the route configuration like the default cluster, `outbound|PORT||FQDN`.
//
// Unlike a sidecar's, this output depends on the names the client requested, so it is not a
// function of the snapshot key alone: compute it per (snapshot key, requested names) —
// ProxylessGrpcKey() — and cache it under that key. Same inputs → byte-identical output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/mesh_options.h"
#include "cmesh/compiler/proxy_node.h"
#include "cmesh/compiler/xds_resources.h"

namespace cmesh::compiler {

// Istio's value of node metadata GENERATOR for proxyless gRPC clients.
inline constexpr char kGrpcGenerator[] = "grpc";

// Whether node metadata GENERATOR (ProxyNode::generator) marks a proxyless gRPC client.
inline bool IsProxylessGrpc(std::string_view generator) { return generator == kGrpcGenerator; }
inline bool IsProxylessGrpc(const ProxyNode& proxy) { return IsProxylessGrpc(proxy.generator); }

// A requested listener name resolved to a visible service port.
struct GrpcTarget {
  std::string fqdn;  // reviews.default.svc.cluster.local
  uint32_t port = 0;
};

// Resolves a requested LDS name `HOST:PORT` the way Istio accepts it: HOST is the short name
// (in the proxy's namespace), `name.ns`, `name.ns.svc` or the FQDN. nullopt when the name is
// malformed, the service is unknown or not exported to the proxy's namespace, or it has no
// such port (UDP ports never resolve).
std::optional<GrpcTarget> ResolveGrpcTarget(const ConfigIndex& index, const ProxyNode& proxy,
                                            const MeshOptions& options, std::string_view listener_name);

// `outbound|PORT||FQDN`: the RouteConfiguration a proxyless listener refers to.
std::string GrpcRouteConfigName(const GrpcTarget& target);

// The resources for a proxyless gRPC client that requested the listeners `listener_names` (any
// order, duplicates allowed):
// - per name that resolves, a Listener named exactly as requested whose api_listener is an
//   HttpConnectionManager with RDS over ADS (GrpcRouteConfigName) and http_filters
//   [envoy.filters.http.fault, envoy.filters.http.router]; names that do not resolve get none;
// - per resolved service port, its RouteConfiguration with one virtual host `FQDN:PORT` whose
//   domains are the sidecar's names for the service, each also with `:PORT` (gRPC matches the
//   authority, port included), and the sidecar's routes (same VirtualService semantics);
// - the clusters those routes reference (EDS over ADS, ROUND_ROBIN or RING_HASH) and their
//   ClusterLoadAssignments (IP endpoints, unique, each locality present with a weight > 0).
// Resource kinds a gRPC client would reject are left out with a warning (see the .cc).
XdsResources CompileProxylessGrpc(const ConfigIndex& index, const ProxyNode& proxy, const MeshOptions& options,
                                  const std::vector<std::string>& listener_names);

// Every listener name this proxy could ask for that resolves: for each visible service and
// each of its non-UDP ports, `HOST:PORT` with HOST the short name (services of the proxy's own
// namespace only), `name.ns`, `name.ns.svc` and the FQDN. Sorted, unique. With these names
// CompileProxylessGrpc's output depends on the snapshot key alone, so an xDS server can share it
// among all proxyless clients of a key whatever targets each dials (its subscription picks them).
std::vector<std::string> ProxylessGrpcListenerNames(const ConfigIndex& index, const ProxyNode& proxy,
                                                    const MeshOptions& options);

// The cache key of CompileProxylessGrpc's output: ProxySnapshotKey(index, proxy) followed by
// ";grpc=" and the sorted, unique requested names joined by ",". Equal keys → identical output
// (for the same index and options).
std::string ProxylessGrpcKey(const ConfigIndex& index, const ProxyNode& proxy,
                             const std::vector<std::string>& listener_names);

}  // namespace cmesh::compiler
