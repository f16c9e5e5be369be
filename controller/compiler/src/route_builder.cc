#include "route_builder.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "cluster_names.h"
#include "route_policies.h"
#include "virtual_service_routes.h"

namespace cmesh::compiler {

using envoy::config::route::v3::Route;
using envoy::config::route::v3::VirtualHost;

std::vector<uint32_t> OutboundHttpPorts(const ProxyView& view) {
  std::set<uint32_t> ports;
  for (const auto* svc : view.services()) {
    for (const auto& p : svc->ports) {
      if (HasHttpRoutes(p.protocol)) ports.insert(p.port->port);
    }
  }
  return {ports.begin(), ports.end()};
}

std::vector<uint32_t> OutboundDeclaredHttpPorts(const ProxyView& view) {
  std::set<uint32_t> ports;
  for (const auto* svc : view.services()) {
    for (const auto& p : svc->ports) {
      if (IsHttp(p.protocol)) ports.insert(p.port->port);
    }
  }
  return {ports.begin(), ports.end()};
}

std::vector<std::string> VirtualHostDomains(const IndexedService& service, const ProxyView& view) {
  const auto& meta = service.service->meta;
  std::vector<std::string> domains = {service.fqdn, service.fqdn + "."};
  if (meta.ns == view.proxy().ns) domains.push_back(meta.name);
  domains.push_back(meta.name + "." + meta.ns);
  domains.push_back(meta.name + "." + meta.ns + ".svc");
  const std::string& ip = service.service->cluster_ip;
  if (!ip.empty() && ip != "None") domains.push_back(ip);
  return domains;
}

namespace {

Route DefaultRoute(const IndexedService& service, uint32_t port, const ProxyView& view) {
  Route route;
  route.set_name("default");
  route.mutable_match()->set_prefix("/");
  auto* action = route.mutable_route();
  ResolvedDestination d;
  d.fqdn = service.fqdn;
  d.port = port;
  d.service = &service;
  d.cluster = OutboundClusterName(port, "", service.fqdn);
  action->set_cluster(d.cluster);
  SetRouteTimeout(std::nullopt, action);
  *action->mutable_retry_policy() = DefaultRetryPolicy();
  for (auto& h : HashPolicyForDestination(d, "", view)) *action->add_hash_policy() = std::move(h);
  return route;
}

}  // namespace

VirtualHost BuildVirtualHost(const IndexedService& service, uint32_t port, const ProxyView& view,
                             std::vector<std::string>* warnings) {
  VirtualHost vh;
  vh.set_name(service.fqdn + ":" + std::to_string(port));
  for (auto& d : VirtualHostDomains(service, view)) vh.add_domains(std::move(d));
  std::vector<Route> routes;
  if (const auto* vs = view.VirtualServiceFor(service.fqdn)) {
    routes = BuildVirtualServiceRoutes(*vs, view, port, warnings);
  }
  // Like Istio, a VirtualService with no route for this port leaves the service its default route.
  if (routes.empty()) routes.push_back(DefaultRoute(service, port, view));
  for (auto& r : routes) *vh.add_routes() = std::move(r);
  vh.set_include_request_attempt_count(true);
  return vh;
}

envoy::config::route::v3::RouteConfiguration AssembleRouteConfig(uint32_t port, std::vector<VirtualHost> virtual_hosts,
                                                                 const MeshOptions& options) {
  envoy::config::route::v3::RouteConfiguration rc;
  rc.set_name(std::to_string(port));
  std::sort(virtual_hosts.begin(), virtual_hosts.end(),
            [](const VirtualHost& a, const VirtualHost& b) { return a.name() < b.name(); });
  std::unordered_set<std::string> seen;
  for (auto& vh : virtual_hosts) {
    auto* domains = vh.mutable_domains();
    int keep = 0;
    for (int i = 0; i < domains->size(); ++i) {
      if (seen.insert(domains->Get(i)).second) {
        if (keep != i) domains->Mutable(keep)->swap(*domains->Mutable(i));
        ++keep;
      }
    }
    while (domains->size() > keep) domains->RemoveLast();
    if (domains->empty()) continue;  // every name already belongs to an earlier virtual host
    *rc.add_virtual_hosts() = std::move(vh);
  }
  VirtualHost* last = rc.add_virtual_hosts();
  last->add_domains("*");
  last->set_include_request_attempt_count(true);
  Route* route = last->add_routes();
  route->mutable_match()->set_prefix("/");
  if (options.outbound_policy == MeshOptions::OutboundPolicy::kAllowAny) {
    last->set_name("allow_any");
    route->set_name("allow_any");
    route->mutable_route()->set_cluster(kPassthroughCluster);
    SetRouteTimeout(std::nullopt, route->mutable_route());
  } else {
    last->set_name("block_all");
    route->set_name("block_all");
    route->mutable_direct_response()->set_status(502);
  }
  rc.mutable_validate_clusters()->set_value(false);
  rc.set_ignore_port_in_host_matching(true);
  return rc;
}

}  // namespace cmesh::compiler
