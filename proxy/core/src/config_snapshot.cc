#include "cmesh/proxy_core/config_snapshot.h"

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace cmesh::proxy_core {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// The RDS name of the first HttpConnectionManager in the listener's filter chains.
std::string RdsName(const envoy::config::listener::v3::Listener& listener) {
  auto from_chain = [](const envoy::config::listener::v3::FilterChain& chain) -> std::string {
    for (const auto& filter : chain.filters()) {
      HttpConnectionManager hcm;
      if (filter.has_typed_config() && filter.typed_config().UnpackTo(&hcm) && hcm.has_rds()) {
        return hcm.rds().route_config_name();
      }
    }
    return "";
  };
  for (const auto& chain : listener.filter_chains()) {
    if (std::string name = from_chain(chain); !name.empty()) return name;
  }
  return listener.has_default_filter_chain() ? from_chain(listener.default_filter_chain()) : "";
}

}  // namespace

const router::RouteTable* ConfigSnapshot::RoutesFor(std::string_view ip, std::uint16_t port) const {
  auto listener = http_routes.find(std::make_pair(std::string(ip), port));
  if (listener == http_routes.end()) listener = http_routes.find(std::make_pair(std::string("0.0.0.0"), port));
  if (listener == http_routes.end()) return nullptr;
  auto table = routes.find(listener->second);
  return table == routes.end() ? nullptr : table->second.get();
}

const upstream::ClusterInfo* ConfigSnapshot::Cluster(std::string_view name) const {
  auto it = clusters.find(name);
  return it == clusters.end() ? nullptr : it->second.get();
}

ConfigSnapshotPtr BuildSnapshot(const xds_client::XdsStatePtr& state, const ConfigSnapshot* previous,
                                std::vector<std::string>* errors, RouteTableCache* routes) {
  auto snapshot = std::make_shared<ConfigSnapshot>();
  snapshot->source = state;
  snapshot->generation = state->generation;
  const xds_client::XdsState* before = previous ? previous->source.get() : nullptr;
  // Only what changed is decoded (the state keeps resources serialised): an unchanged resource
  // is the same object as in the previous state, and its compiled form is taken as it is.
  for (const auto& [name, resource] : state->routes) {
    if (before) {
      auto old = before->routes.find(name);
      auto compiled = previous->routes.find(name);
      if (old != before->routes.end() && old->second == resource && compiled != previous->routes.end()) {
        snapshot->routes.emplace_hint(snapshot->routes.end(), name, compiled->second);
        continue;
      }
    }
    const envoy::config::route::v3::RouteConfiguration config = resource.Decode();
    std::string error;
    if (auto table = routes ? routes->Get(config, &error) : router::RouteTable::Build(config, &error)) {
      snapshot->routes.emplace_hint(snapshot->routes.end(), name, std::move(table));
    } else {
      errors->push_back("RDS " + name + ": " + error);
    }
  }
  for (const auto& [name, cluster] : state->clusters) {
    // BuildCluster reads endpoints for EDS clusters only; the others carry their own.
    const std::string_view eds_name = xds_client::XdsState::EdsServiceName(name, cluster);
    xds_client::Resource<envoy::config::endpoint::v3::ClusterLoadAssignment> cla;
    if (!eds_name.empty()) {
      if (auto it = state->endpoints.find(eds_name); it != state->endpoints.end()) cla = it->second;
    }
    if (before) {
      auto old = before->clusters.find(name);
      auto compiled = previous->clusters.find(name);
      if (old != before->clusters.end() && old->second == cluster && compiled != previous->clusters.end()) {
        // The same cluster reads the same EDS name: the endpoints it was built with are the
        // previous state's entry under that name.
        decltype(cla) old_cla;
        if (!eds_name.empty()) {
          if (auto it = before->endpoints.find(eds_name); it != before->endpoints.end()) old_cla = it->second;
        }
        if (old_cla == cla) {
          snapshot->clusters.emplace_hint(snapshot->clusters.end(), name, compiled->second);
          continue;
        }
      }
    }
    const envoy::config::cluster::v3::Cluster config = cluster.Decode();
    envoy::config::endpoint::v3::ClusterLoadAssignment endpoints;
    if (cla) endpoints = cla.Decode();
    std::string error;
    if (auto built = upstream::BuildCluster(config, cla ? &endpoints : nullptr, &error)) {
      snapshot->clusters.emplace_hint(snapshot->clusters.end(), name, std::move(built));
    } else {
      errors->push_back("CDS " + name + ": " + error);
    }
  }
  for (const auto& [name, resource] : state->listeners) {
    const envoy::config::listener::v3::Listener listener = resource.Decode();
    const std::string rds = RdsName(listener);
    if (rds.empty() || !listener.address().has_socket_address()) continue;
    const auto& address = listener.address().socket_address();
    snapshot->http_routes[{address.address(), static_cast<std::uint16_t>(address.port_value())}] = rds;
  }
  return snapshot;
}

}  // namespace cmesh::proxy_core
