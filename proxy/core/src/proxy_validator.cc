#include "cmesh/proxy_core/proxy_validator.h"

#include "cmesh/router/route_table.h"
#include "cmesh/upstream/cluster_info.h"

namespace cmesh::proxy_core {

std::string ProxyResourceValidator::ValidateCluster(const envoy::config::cluster::v3::Cluster& cluster) const {
  std::string error = DefaultResourceValidator::ValidateCluster(cluster);
  if (!error.empty()) return error;
  // Without its endpoints: those arrive over EDS and are checked when the snapshot is built.
  if (!upstream::BuildCluster(cluster, nullptr, &error)) return error;
  return "";
}

std::string ProxyResourceValidator::ValidateRoute(const envoy::config::route::v3::RouteConfiguration& route) const {
  std::string error = DefaultResourceValidator::ValidateRoute(route);
  if (!error.empty()) return error;
  const bool built = routes_ ? routes_->Get(route, &error) != nullptr : router::RouteTable::Build(route, &error) != nullptr;
  if (!built) return error;
  // What the router compiles but the connection manager does not do yet: refused, so a user sees
  // a NACK instead of a route that silently behaves otherwise.
  for (const auto& vh : route.virtual_hosts()) {
    for (const auto& r : vh.routes()) {
      const std::string at = "route configuration \"" + route.name() + "\" virtual host \"" + vh.name() + "\" route \"" +
                             r.name() + "\": ";
      if (!r.has_route()) continue;
      if (r.route().request_mirror_policies_size() > 0) return at + "request mirroring is not implemented by cmesh-proxy yet";
      if (r.route().has_idle_timeout() &&
          (r.route().idle_timeout().seconds() != 0 || r.route().idle_timeout().nanos() != 0)) {
        return at + "a route idle_timeout is not implemented by cmesh-proxy yet";
      }
    }
  }
  return "";
}

}  // namespace cmesh::proxy_core
