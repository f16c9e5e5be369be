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
  if (!router::RouteTable::Build(route, &error)) return error;
  return "";
}

}  // namespace cmesh::proxy_core
