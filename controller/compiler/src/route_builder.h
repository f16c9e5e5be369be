// RDS: one RouteConfiguration per outbound HTTP port, named "PORT", with one virtual host per
// service on that port and a last catch-all virtual host.
#pragma once

#include <string>
#include <vector>

#include "envoy/config/route/v3/route.pb.h"
#include "proxy_view.h"

namespace cmesh::compiler {

// The HTTP ports of the visible services, sorted, unique.
// The ports with an outbound HTTP route configuration: declared HTTP, or undeclared (sniffed).
std::vector<uint32_t> OutboundHttpPorts(const ProxyView& view);
// The ports some visible service declares HTTP on: they get a "0.0.0.0_PORT" HTTP listener (the
// services of other protocols on that port are served by their own "IP_PORT" listeners).
std::vector<uint32_t> OutboundDeclaredHttpPorts(const ProxyView& view);

// Domains under which the proxy reaches `service` (before de-duplication across virtual hosts):
// the FQDN, the FQDN with a trailing dot, the short names the proxy's DNS search path
// completes ("reviews", "reviews.default", "reviews.default.svc" from the same namespace;
// "reviews.default", "reviews.default.svc" from another), and the cluster IP.
std::vector<std::string> VirtualHostDomains(const IndexedService& service, const ProxyView& view);

// The virtual host `FQDN:PORT` of one service: the routes of its VirtualService for this port,
// or the `default` route (prefix "/", timeout 0, Istio's default retry policy).
envoy::config::route::v3::VirtualHost BuildVirtualHost(const IndexedService& service, uint32_t port,
                                                       const ProxyView& view, std::vector<std::string>* warnings);

// Assembles the RouteConfiguration "PORT" from virtual hosts (any order): sorted by name, each
// domain kept only in the first virtual host that claims it, then `allow_any` (ALLOW_ANY →
// PassthroughCluster) or `block_all` (REGISTRY_ONLY → 502).
envoy::config::route::v3::RouteConfiguration AssembleRouteConfig(
    uint32_t port, std::vector<envoy::config::route::v3::VirtualHost> virtual_hosts, const MeshOptions& options);

}  // namespace cmesh::compiler
