// What cmesh-proxy accepts over xDS: the client's basic checks, plus whatever the router and the
// cluster builder cannot honour (an unsupported route field, a load balancer we do not have).
// Such a resource is NACKed with the reason, and the previous configuration keeps serving.
#pragma once

#include "cmesh/xds_client/resource_validator.h"

namespace cmesh::proxy_core {

class ProxyResourceValidator final : public xds_client::DefaultResourceValidator {
 public:
  std::string ValidateCluster(const envoy::config::cluster::v3::Cluster& cluster) const override;
  std::string ValidateRoute(const envoy::config::route::v3::RouteConfiguration& route) const override;
};

}  // namespace cmesh::proxy_core
