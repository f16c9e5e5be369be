// What the xDS client accepts. One decoded resource at a time; an error NACKs the whole response
// it came in, and the client keeps its last good resources of that type. The checks the client
// does itself before any validator runs: each Any carries the response's type URL and parses,
// and no name appears twice in one response.
#pragma once

#include <string>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace cmesh::xds_client {

class ResourceValidator {
 public:
  virtual ~ResourceValidator() = default;
  // Empty when the resource is usable; otherwise why not (it goes into the NACK's error_detail).
  virtual std::string ValidateCluster(const envoy::config::cluster::v3::Cluster& cluster) const = 0;
  virtual std::string ValidateEndpoints(
      const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment) const = 0;
  virtual std::string ValidateListener(const envoy::config::listener::v3::Listener& listener) const = 0;
  virtual std::string ValidateRoute(const envoy::config::route::v3::RouteConfiguration& route) const = 0;
};

// What any proxy needs to make sense of a resource: a name, and for listeners HTTP connection
// managers that decode and say where their routes come from. Richer checks (what the router
// supports) are the proxy's to add by subclassing.
class DefaultResourceValidator : public ResourceValidator {
 public:
  std::string ValidateCluster(const envoy::config::cluster::v3::Cluster& cluster) const override;
  std::string ValidateEndpoints(const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment) const override;
  std::string ValidateListener(const envoy::config::listener::v3::Listener& listener) const override;
  std::string ValidateRoute(const envoy::config::route::v3::RouteConfiguration& route) const override;
};

}  // namespace cmesh::xds_client
