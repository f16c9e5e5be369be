#include "cmesh/proxy_core/proxy_validator.h"

#include "cmesh/proxy_core/listener_table.h"
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

std::string ProxyResourceValidator::ValidateListener(const envoy::config::listener::v3::Listener& listener) const {
  std::string error = DefaultResourceValidator::ValidateListener(listener);
  if (!error.empty()) return error;
  // What the workers cannot do with a filter chain (TLS, filters other than the HTTP connection
  // manager and tcp_proxy, matches on the source) is refused rather than half-served.
  if (!CompiledListener::Build(listener, routes_.get(), &error)) return error;
  return "";
}

std::string ProxyResourceValidator::ValidateRoute(const envoy::config::route::v3::RouteConfiguration& route) const {
  std::string error = DefaultResourceValidator::ValidateRoute(route);
  if (!error.empty()) return error;
  const bool built = routes_ ? routes_->Get(route, &error) != nullptr : router::RouteTable::Build(route, &error) != nullptr;
  if (!built) return error;
  return "";
}

}  // namespace cmesh::proxy_core
