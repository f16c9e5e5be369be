// The names one resource makes the client subscribe to next: the EDS name of an EDS cluster and
// the RDS names of a listener's HTTP connection managers.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <google/protobuf/any.pb.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace cmesh::xds_client {

// The ClusterLoadAssignment name of an EDS cluster (eds_cluster_config.service_name, else the
// cluster's name); nullopt for other cluster types.
std::optional<std::string> EdsServiceName(const envoy::config::cluster::v3::Cluster& cluster);

// Calls `visit` for every HttpConnectionManager of the listener (by typed_config type URL), in
// every filter chain, the default filter chain and the api_listener. `decoded` is false (and
// `hcm` empty) when the Any does not parse.
template <typename Visit>
void ForEachHttpConnectionManager(const envoy::config::listener::v3::Listener& listener, Visit&& visit);

// The route_config_name of every HCM that loads its routes over RDS, added to `names`.
void AddRdsNames(const envoy::config::listener::v3::Listener& listener, std::set<std::string, std::less<>>& names);

// Whether an Any's type URL names `full_type_name` (whatever the URL's host part).
bool AnyIsType(const google::protobuf::Any& any, std::string_view full_type_name);

template <typename Visit>
void ForEachHttpConnectionManager(const envoy::config::listener::v3::Listener& listener, Visit&& visit) {
  constexpr std::string_view kHcm = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  auto visit_any = [&](const google::protobuf::Any& any) {
    if (!AnyIsType(any, kHcm)) return;
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
    // The bytes are parsed directly: Any::UnpackTo would also insist on the
    // "type.googleapis.com/" prefix, which the xDS spec does not require.
    bool decoded = hcm.ParseFromString(any.value());
    visit(hcm, decoded);
  };
  auto visit_chain = [&](const envoy::config::listener::v3::FilterChain& chain) {
    for (const auto& filter : chain.filters()) {
      if (filter.has_typed_config()) visit_any(filter.typed_config());
    }
  };
  for (const auto& chain : listener.filter_chains()) visit_chain(chain);
  if (listener.has_default_filter_chain()) visit_chain(listener.default_filter_chain());
  if (listener.has_api_listener() && listener.api_listener().has_api_listener()) {
    visit_any(listener.api_listener().api_listener());
  }
}

}  // namespace cmesh::xds_client
