// What cmesh-proxy accepts over xDS: the client's basic checks, plus whatever the router and the
// cluster builder cannot honour (an unsupported route field, a load balancer we do not have).
// Such a resource is NACKed with the reason, and the previous configuration keeps serving.
#pragma once

#include <memory>

#include "cmesh/proxy_core/route_table_cache.h"
#include "cmesh/xds_client/resource_validator.h"

namespace cmesh::proxy_core {

class ProxyResourceValidator final : public xds_client::DefaultResourceValidator {
 public:
  // Route tables compiled here are kept in `routes` for the snapshot builder (null: not kept).
  explicit ProxyResourceValidator(std::shared_ptr<RouteTableCache> routes = nullptr) : routes_(std::move(routes)) {}
  std::string ValidateCluster(const envoy::config::cluster::v3::Cluster& cluster) const override;
  std::string ValidateRoute(const envoy::config::route::v3::RouteConfiguration& route) const override;
  std::string ValidateListener(const envoy::config::listener::v3::Listener& listener) const override;

 private:
  std::shared_ptr<RouteTableCache> routes_;
};

}  // namespace cmesh::proxy_core
