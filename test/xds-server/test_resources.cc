#include "test_resources.h"

#include "cmesh/xds/resource.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace cmesh::xds::testing {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

envoy::config::listener::v3::Listener Listener(const std::string& name, const std::string& route_name) {
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  hcm.mutable_rds()->set_route_config_name(route_name);
  hcm.mutable_rds()->mutable_config_source()->mutable_ads();
  auto* router = hcm.add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  envoy::config::listener::v3::Listener listener;
  listener.set_name(name);
  listener.mutable_api_listener()->mutable_api_listener()->PackFrom(hcm);
  return listener;
}

envoy::config::route::v3::RouteConfiguration Route(const std::string& name, const std::string& cluster) {
  envoy::config::route::v3::RouteConfiguration route;
  route.set_name(name);
  auto* host = route.add_virtual_hosts();
  host->set_name(name);
  host->add_domains(std::string("*"));  // the const char* overload trips a GCC 12 -Wrestrict false positive
  auto* r = host->add_routes();
  r->mutable_match()->set_prefix("/");
  r->mutable_route()->set_cluster(cluster);
  return route;
}

envoy::config::cluster::v3::Cluster EdsCluster(const std::string& name) {
  envoy::config::cluster::v3::Cluster cluster;
  cluster.set_name(name);
  cluster.set_type(envoy::config::cluster::v3::Cluster::EDS);
  cluster.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  return cluster;
}

envoy::config::endpoint::v3::ClusterLoadAssignment Assignment(const std::string& cluster,
                                                              std::initializer_list<std::string> ips) {
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
  assignment.set_cluster_name(cluster);
  auto* locality = assignment.add_endpoints();
  locality->mutable_locality()->set_region("r1");
  locality->mutable_load_balancing_weight()->set_value(1);
  for (const std::string& ip : ips) {
    auto* address = locality->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
    address->set_address(ip);
    address->set_port_value(8080);
  }
  return assignment;
}

SnapshotPtr MeshSnapshot(const std::map<std::string, std::string>& service_ips) {
  SnapshotBuilder builder;
  for (const auto& [service, ip] : service_ips) {
    builder.Add(MakeResource(Listener(service + ":80", service + "-route")));
    builder.Add(MakeResource(Route(service + "-route", service)));
    builder.Add(MakeResource(EdsCluster(service)));
    builder.Add(MakeResource(Assignment(service, {ip})));
  }
  return std::move(builder).Build();
}

envoy::service::discovery::v3::DiscoveryRequest Request(ResourceType type, std::vector<std::string> names,
                                                        const std::string& nonce, const std::string& version) {
  envoy::service::discovery::v3::DiscoveryRequest request;
  request.set_type_url(std::string(TypeUrl(type)));
  for (auto& name : names) request.add_resource_names(std::move(name));
  request.set_response_nonce(nonce);
  request.set_version_info(version);
  return request;
}

envoy::service::discovery::v3::DiscoveryRequest Nack(ResourceType type, std::vector<std::string> names,
                                                     const std::string& nonce, const std::string& message) {
  auto request = Request(type, std::move(names), nonce);
  request.mutable_error_detail()->set_code(3);  // INVALID_ARGUMENT, as clients send
  request.mutable_error_detail()->set_message(message);
  return request;
}

envoy::service::discovery::v3::DeltaDiscoveryRequest DeltaRequest(ResourceType type,
                                                                  std::vector<std::string> subscribe,
                                                                  std::vector<std::string> unsubscribe,
                                                                  const std::string& nonce) {
  envoy::service::discovery::v3::DeltaDiscoveryRequest request;
  request.set_type_url(std::string(TypeUrl(type)));
  for (auto& name : subscribe) request.add_resource_names_subscribe(std::move(name));
  for (auto& name : unsubscribe) request.add_resource_names_unsubscribe(std::move(name));
  request.set_response_nonce(nonce);
  return request;
}

}  // namespace cmesh::xds::testing
