// Builders for the xDS client tests: DiscoveryResponses as a control plane sends them, and the
// Envoy resources inside (the proxyless-shaped ones of test/xds-server/test_resources.h plus the
// sidecar shapes: filter chains, a default chain, an inline route config).
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace cmesh::xds_client::testing {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// An HCM loading `route_name` over ADS.
inline HttpConnectionManager RdsHcm(const std::string& route_name) {
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(route_name);
  hcm.mutable_rds()->set_route_config_name(route_name);
  hcm.mutable_rds()->mutable_config_source()->mutable_ads();
  return hcm;
}

inline google::protobuf::Any Pack(const google::protobuf::Message& message) {
  google::protobuf::Any any;
  any.PackFrom(message);
  return any;
}

// A sidecar-style listener: one filter chain per route name, each with an HCM over RDS.
inline envoy::config::listener::v3::Listener ChainListener(const std::string& name,
                                                           const std::vector<std::string>& route_names) {
  envoy::config::listener::v3::Listener listener;
  listener.set_name(name);
  for (const std::string& route : route_names) {
    auto* filter = listener.add_filter_chains()->add_filters();
    filter->set_name("envoy.filters.network.http_connection_manager");
    *filter->mutable_typed_config() = Pack(RdsHcm(route));
  }
  return listener;
}

template <typename... Messages>
envoy::service::discovery::v3::DiscoveryResponse Response(const std::string& type_url, const std::string& version,
                                                          const std::string& nonce, const Messages&... resources) {
  envoy::service::discovery::v3::DiscoveryResponse response;
  response.set_type_url(type_url);
  response.set_version_info(version);
  response.set_nonce(nonce);
  ((*response.add_resources() = Pack(resources)), ...);
  return response;
}

inline std::vector<std::string> NamesOf(const envoy::service::discovery::v3::DiscoveryRequest& request) {
  return {request.resource_names().begin(), request.resource_names().end()};
}

}  // namespace cmesh::xds_client::testing
