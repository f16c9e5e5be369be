// Proxyless gRPC output. Everything here reuses the sidecar builders (virtual hosts and their
// VirtualService routes, outbound clusters, load assignments) and only reshapes their output
// into what gRFC A27/A28 clients accept; each reshaping is commented where it happens.
#include "cmesh/compiler/grpc_proxyless.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <utility>

#include "cluster_builder.h"
#include "cluster_names.h"
#include "cmesh/compiler/snapshot_key.h"
#include "endpoint_builder.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "hash.h"
#include "host_names.h"
#include "proto_util.h"
#include "proxy_view.h"
#include "route_builder.h"
#include "route_policies.h"

namespace cmesh::compiler {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// "HOST:PORT" → (HOST, PORT); false for anything else (no port, port 0 or > 65535).
bool SplitHostPort(std::string_view name, std::string_view* host, uint32_t* port) {
  const size_t colon = name.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == name.size()) return false;
  const std::string_view digits = name.substr(colon + 1);
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || value == 0 || value > 65535) return false;
  *host = name.substr(0, colon);
  *port = value;
  return true;
}

// The FQDN a requested HOST stands for, as the proxy's DNS search path would complete it:
// "reviews" → in the proxy's namespace, "reviews.ns", "reviews.ns.svc", or already a FQDN.
std::string ExpandHost(std::string_view host, const ProxyNode& proxy, const MeshOptions& options) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // an absolute FQDN
  const auto dots = std::count(host.begin(), host.end(), '.');
  if (dots == 0) return ServiceFqdn(host, proxy.ns, options.domain_suffix);
  if (dots == 2 && host.size() > 4 && host.substr(host.size() - 4) == ".svc") {
    return std::string(host) + "." + options.domain_suffix;
  }
  return ResolveHost(host, proxy.ns, options.domain_suffix);  // "name.ns" or a FQDN
}

struct ResolvedTarget {
  const IndexedService* service = nullptr;
  const IndexedPort* port = nullptr;
};

std::optional<ResolvedTarget> Resolve(const ProxyView& view, std::string_view name) {
  std::string_view host;
  uint32_t port = 0;
  if (!SplitHostPort(name, &host, &port) || IsWildcard(host)) return std::nullopt;
  const IndexedService* svc = view.FindService(ExpandHost(host, view.proxy(), view.options()));
  if (svc == nullptr) return std::nullopt;  // unknown, or not exported to the proxy's namespace
  // Any TCP-carried port: a gRPC client speaks HTTP/2 whatever the port's declared protocol
  // (Istio's grpcgen does not filter by protocol either).
  for (const IndexedPort& p : svc->ports) {
    if (p.port->port == port && p.protocol != Protocol::kUdp) return ResolvedTarget{svc, &p};
  }
  return std::nullopt;
}

void AddFilter(const std::string& name, const google::protobuf::Message& config, HttpConnectionManager* hcm) {
  auto* f = hcm->add_http_filters();
  f->set_name(name);
  f->mutable_typed_config()->PackFrom(config);
}

// Istio's grpcgen listener: no address (an api_listener is not bound), the HCM inside, filters
// fault (A33) then the router, which gRPC requires last.
Listener BuildApiListener(const std::string& name, const std::string& route_config_name) {
  HttpConnectionManager hcm;
  auto* rds = hcm.mutable_rds();
  SetAds(rds->mutable_config_source());
  rds->set_route_config_name(route_config_name);
  AddFilter(kFaultFilter, envoy::extensions::filters::http::fault::v3::HTTPFault(), &hcm);
  AddFilter(kRouterFilter, envoy::extensions::filters::http::router::v3::Router(), &hcm);
  Listener l;
  l.set_name(name);
  l.mutable_api_listener()->mutable_api_listener()->PackFrom(hcm);
  return l;
}

uint32_t TotalWeight(const envoy::config::route::v3::WeightedCluster& wc) {
  uint32_t total = 0;
  for (const auto& c : wc.clusters()) total += c.weight().value();
  return total;
}

// The route configuration of one service port. gRPC picks the virtual host by matching the
// channel's authority, port included ("reviews:9080"), against the domains, so every sidecar
// domain also appears with ":PORT" (Istio does the same for proxyless clients, whose virtual
// hosts do not ignore the port). The clusters the routes use are added to `clusters`.
RouteConfiguration BuildRouteConfig(const ResolvedTarget& t, const ProxyView& view, std::set<std::string>* clusters,
                                    std::vector<std::string>* warnings) {
  const uint32_t port = t.port->port->port;
  auto vh = BuildVirtualHost(*t.service, port, view, warnings);
  const std::vector<std::string> names(vh.domains().begin(), vh.domains().end());
  for (const auto& d : names) vh.add_domains(d + ":" + std::to_string(port));

  // A28: a route without a path specifier is invalid, and weighted clusters must add up to more
  // than 0. The sidecar translation already guarantees both; a route that breaks them anyway is
  // dropped (one bad route would NACK the whole configuration) with a warning.
  auto* routes = vh.mutable_routes();
  for (int i = 0; i < routes->size();) {
    const auto& r = routes->Get(i);
    const auto spec = r.match().path_specifier_case();
    const bool weighted_ok = !r.has_route() || !r.route().has_weighted_clusters() ||
                             TotalWeight(r.route().weighted_clusters()) > 0;
    if (spec == envoy::config::route::v3::RouteMatch::PATH_SPECIFIER_NOT_SET || !weighted_ok) {
      warnings->push_back("proxyless gRPC: route \"" + r.name() + "\" of " + vh.name() +
                          " has no path specifier or zero total weight and is left out");
      routes->DeleteSubrange(i, 1);
      continue;
    }
    // A39: a per-route filter config for a filter type gRPC does not implement is a NACK. gRPC
    // implements fault (A33) only; CORS, which only a server-side proxy can apply, is left out.
    auto* per_filter = routes->Mutable(i)->mutable_typed_per_filter_config();
    for (auto it = per_filter->begin(); it != per_filter->end();) {
      if (it->first == kFaultFilter) {
        ++it;
        continue;
      }
      warnings->push_back("proxyless gRPC: route \"" + r.name() + "\" of " + vh.name() + ": " + it->first +
                          " is not supported by gRPC clients and is left out");
      it = per_filter->erase(it);
    }
    if (r.has_route()) {
      if (!r.route().cluster().empty()) clusters->insert(r.route().cluster());
      for (const auto& c : r.route().weighted_clusters().clusters()) clusters->insert(c.name());
    }
    ++i;
  }
  RouteConfiguration rc;
  rc.set_name(OutboundClusterName(port, "", t.service->fqdn));
  *rc.add_virtual_hosts() = std::move(vh);
  return rc;
}

// outbound|PORT|SUBSET|FQDN → its parts; false for other names (e.g. PassthroughCluster).
bool ParseOutboundClusterName(const std::string& name, uint32_t* port, std::string* subset, std::string* fqdn) {
  if (name.rfind("outbound|", 0) != 0) return false;
  const size_t a = name.find('|', 9);
  if (a == std::string::npos) return false;
  const size_t b = name.find('|', a + 1);
  if (b == std::string::npos) return false;
  const std::string_view digits(name.data() + 9, a - 9);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *port);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  *subset = name.substr(a + 1, b - a - 1);
  *fqdn = name.substr(b + 1);
  return true;
}

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A27: every endpoint an IP literal, unique; every locality with a weight > 0. The sidecar's
// load assignment already has a locality per group; duplicates (two pods reporting one
// address) and non-IP addresses are removed here, and emptied localities dropped.
void MakeGrpcLoadAssignment(ClusterLoadAssignment* cla, std::vector<std::string>* warnings) {
  std::set<std::pair<std::string, uint32_t>> seen;
  auto* localities = cla->mutable_endpoints();
  for (int i = 0; i < localities->size();) {
    auto* lbs = localities->Mutable(i)->mutable_lb_endpoints();
    for (int j = 0; j < lbs->size();) {
      const auto& sa = lbs->Get(j).endpoint().address().socket_address();
      const bool ip = IsIpLiteral(sa.address());
      if (!ip) {
        warnings->push_back("proxyless gRPC: cluster " + cla->cluster_name() + ": endpoint " + sa.address() +
                            " is not an IP address and is left out");
      }
      if (!ip || !seen.emplace(sa.address(), sa.port_value()).second) {
        lbs->DeleteSubrange(j, 1);
        continue;
      }
      ++j;
    }
    if (lbs->empty()) {
      localities->DeleteSubrange(i, 1);
      continue;
    }
    localities->Mutable(i)->mutable_load_balancing_weight()->set_value(static_cast<uint32_t>(lbs->size()));
    ++i;
  }
}

// The cluster `name` for a gRPC client, with its load assignment; false (and a warning) when
// the name is not a visible service's EDS cluster.
bool BuildGrpcCluster(const std::string& name, const ProxyView& view, Cluster* cluster, ClusterLoadAssignment* cla,
                      std::vector<std::string>* warnings) {
  uint32_t port_number = 0;
  std::string subset_name, fqdn;
  const IndexedService* svc = nullptr;
  if (ParseOutboundClusterName(name, &port_number, &subset_name, &fqdn)) svc = view.FindService(fqdn);
  const IndexedPort* port = nullptr;
  if (svc != nullptr) {
    for (const auto& p : svc->ports) {
      if (p.port->port == port_number && p.protocol != Protocol::kUdp) port = &p;
    }
  }
  if (port == nullptr) {
    warnings->push_back("proxyless gRPC: cluster " + name + " is not a visible service port and is left out");
    return false;
  }
  const model::DestinationRule* rule = view.RuleFor(*svc).rule;
  const model::Subset* subset = nullptr;
  if (!subset_name.empty()) {
    if (rule != nullptr) {
      for (const auto& s : rule->subsets) {
        if (s.name == subset_name) subset = &s;
      }
    }
    if (subset == nullptr) {
      warnings->push_back("proxyless gRPC: cluster " + name + " names an unknown subset and is left out");
      return false;
    }
  }
  *cluster = BuildOutboundCluster(*svc, *port, rule, subset, view.options(), IsIpv6Proxy(view.proxy()), warnings);
  // A27 accepts EDS clusters only: DNS (ExternalName) and ORIGINAL_DST (PASSTHROUGH) are left out.
  if (cluster->type() != Cluster::EDS) {
    warnings->push_back("proxyless gRPC: cluster " + name + " is of type " + Cluster::DiscoveryType_Name(cluster->type()) +
                        ", which gRPC clients do not support, and is left out");
    return false;
  }
  // gRPC load-balances with ROUND_ROBIN or RING_HASH only: Maglev (consistent hashing too)
  // becomes RING_HASH with Istio's default ring size, the others ROUND_ROBIN.
  switch (cluster->lb_policy()) {
    case Cluster::ROUND_ROBIN:
    case Cluster::RING_HASH:
      break;
    case Cluster::MAGLEV:
      warnings->push_back("proxyless gRPC: cluster " + name + ": MAGLEV is served as RING_HASH");
      cluster->clear_maglev_lb_config();
      cluster->set_lb_policy(Cluster::RING_HASH);
      cluster->mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(1024);
      break;
    default:
      warnings->push_back("proxyless gRPC: cluster " + name + ": " + Cluster::LbPolicy_Name(cluster->lb_policy()) +
                          " is served as ROUND_ROBIN");
      cluster->clear_least_request_lb_config();
      cluster->set_lb_policy(Cluster::ROUND_ROBIN);
  }
  *cla = BuildLoadAssignment(name, port->endpoints, subset ? &subset->labels : nullptr);
  MakeGrpcLoadAssignment(cla, warnings);
  return true;
}

template <typename T>
void Append(std::vector<Versioned<T>>* out, T resource) {
  Versioned<T> v;
  v.version = HexDigest(HashMessage(resource));
  v.resource = std::move(resource);
  out->push_back(std::move(v));
}

std::vector<std::string> SortedUnique(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

std::optional<GrpcTarget> ResolveGrpcTarget(const ConfigIndex& index, const ProxyNode& proxy,
                                            const MeshOptions& options, std::string_view listener_name) {
  ProxyView view(index, proxy, options);
  auto t = Resolve(view, listener_name);
  if (!t) return std::nullopt;
  return GrpcTarget{t->service->fqdn, t->port->port->port};
}

std::vector<std::string> ProxylessGrpcListenerNames(const ConfigIndex& index, const ProxyNode& proxy,
                                                    const MeshOptions& options) {
  ProxyView view(index, proxy, options);
  std::vector<std::string> names;
  for (const IndexedService* svc : view.services()) {
    const model::ObjectMeta& meta = svc->service->meta;
    std::vector<std::string> hosts;
    if (meta.ns == proxy.ns) hosts.push_back(meta.name);
    hosts.push_back(meta.name + "." + meta.ns);
    hosts.push_back(meta.name + "." + meta.ns + ".svc");
    hosts.push_back(svc->fqdn);
    for (const IndexedPort& p : svc->ports) {
      if (p.protocol == Protocol::kUdp) continue;
      for (const std::string& host : hosts) {
        std::string name = host + ":" + std::to_string(p.port->port);
        // Only names that resolve to this very service port (Resolve is the one authority).
        auto t = Resolve(view, name);
        if (t && t->service == svc && t->port->port->port == p.port->port) names.push_back(std::move(name));
      }
    }
  }
  return SortedUnique(std::move(names));
}

std::string GrpcRouteConfigName(const GrpcTarget& target) { return OutboundClusterName(target.port, "", target.fqdn); }

XdsResources CompileProxylessGrpc(const ConfigIndex& index, const ProxyNode& proxy, const MeshOptions& options,
                                  const std::vector<std::string>& listener_names) {
  ProxyView view(index, proxy, options);
  XdsResources out;
  std::vector<std::string> warnings;
  // Route configurations by name (each service port once, whichever names reached it).
  std::map<std::string, ResolvedTarget> targets;
  for (const auto& name : SortedUnique(listener_names)) {
    auto t = Resolve(view, name);
    if (!t) continue;  // the server reports it as missing; an empty listener would be a NACK
    const std::string rds = OutboundClusterName(t->port->port->port, "", t->service->fqdn);
    Append(&out.listeners, BuildApiListener(name, rds));
    targets.emplace(rds, *t);
  }
  std::set<std::string> cluster_names;
  for (const auto& [rds, t] : targets) Append(&out.routes, BuildRouteConfig(t, view, &cluster_names, &warnings));
  // Every cluster a route could name for each target, not only those the routes name now: a
  // client keeps its subscription to a cluster until it has applied the route change that drops
  // it, and the clusters are pushed before the routes, so a cluster left out with the route that
  // stopped using it would fail the client's calls in between ("does not exist").
  for (const auto& [rds, t] : targets) {
    const uint32_t port = t.port->port->port;
    cluster_names.insert(OutboundClusterName(port, "", t.service->fqdn));
    if (const model::DestinationRule* rule = view.RuleFor(*t.service).rule) {
      for (const auto& subset : rule->subsets) cluster_names.insert(OutboundClusterName(port, subset.name, t.service->fqdn));
    }
  }
  for (const auto& name : cluster_names) {
    Cluster cluster;
    ClusterLoadAssignment cla;
    if (!BuildGrpcCluster(name, view, &cluster, &cla, &warnings)) continue;
    Append(&out.clusters, std::move(cluster));
    Append(&out.endpoints, std::move(cla));
  }
  // Listeners were added in sorted name order; routes, clusters and endpoints in map/set order.
  warnings.insert(warnings.end(), view.warnings().begin(), view.warnings().end());
  std::sort(warnings.begin(), warnings.end());
  warnings.erase(std::unique(warnings.begin(), warnings.end()), warnings.end());
  out.warnings = std::move(warnings);
  return out;
}

std::string ProxylessGrpcKey(const ConfigIndex& index, const ProxyNode& proxy,
                             const std::vector<std::string>& listener_names) {
  std::string key = ProxySnapshotKey(index, proxy) + ";grpc=";
  // Length-prefixed, so no name can forge a separator.
  for (const auto& name : SortedUnique(listener_names)) key += std::to_string(name.size()) + ":" + name + ",";
  return key;
}

}  // namespace cmesh::compiler
