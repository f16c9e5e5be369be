#include "cmesh/xds_client/resource_validator.h"

#include "cmesh/xds_client/references.h"

namespace cmesh::xds_client {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

std::string DefaultResourceValidator::ValidateCluster(const envoy::config::cluster::v3::Cluster& cluster) const {
  if (cluster.name().empty()) return "missing name";
  return {};
}

std::string DefaultResourceValidator::ValidateEndpoints(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment) const {
  if (assignment.cluster_name().empty()) return "missing cluster_name";
  return {};
}

std::string DefaultResourceValidator::ValidateListener(const envoy::config::listener::v3::Listener& listener) const {
  if (listener.name().empty()) return "missing name";
  std::string error;
  ForEachHttpConnectionManager(listener, [&](const HttpConnectionManager& hcm, bool decoded) {
    if (!error.empty()) return;
    if (!decoded) {
      error = "http_connection_manager typed_config does not decode";
    } else if (hcm.has_rds()) {
      if (hcm.rds().route_config_name().empty()) error = "http_connection_manager rds has no route_config_name";
    } else if (!hcm.has_route_config()) {
      // Scoped routes (or nothing at all): the proxy would have no routes to serve.
      error = "http_connection_manager has neither rds nor route_config";
    }
  });
  return error;
}

std::string DefaultResourceValidator::ValidateRoute(const envoy::config::route::v3::RouteConfiguration& route) const {
  if (route.name().empty()) return "missing name";
  return {};
}

}  // namespace cmesh::xds_client
