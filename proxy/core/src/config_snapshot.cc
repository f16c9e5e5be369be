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
  for (const auto& [name, config] : state->routes) {
    // Same proto object as last time: the compiled table is still right.
    if (previous && previous->source) {
      auto old = previous->source->routes.find(name);
      auto compiled = previous->routes.find(name);
      if (old != previous->source->routes.end() && old->second == config && compiled != previous->routes.end()) {
        snapshot->routes.emplace(name, compiled->second);
        continue;
      }
    }
    std::string error;
    if (auto table = routes ? routes->Get(*config, &error) : router::RouteTable::Build(*config, &error)) {
      snapshot->routes.emplace(name, std::move(table));
    } else {
      errors->push_back("RDS " + name + ": " + error);
    }
  }
  for (const auto& [name, cluster] : state->clusters) {
    const std::string& eds_name =
        cluster->eds_cluster_config().service_name().empty() ? name : cluster->eds_cluster_config().service_name();
    const envoy::config::endpoint::v3::ClusterLoadAssignment* cla = nullptr;
    std::shared_ptr<const envoy::config::endpoint::v3::ClusterLoadAssignment> cla_ptr;
    if (auto it = state->endpoints.find(eds_name); it != state->endpoints.end()) {
      cla_ptr = it->second;
      cla = cla_ptr.get();
    }
    if (previous && previous->source) {
      auto old = previous->source->clusters.find(name);
      auto old_cla = previous->source->endpoints.find(eds_name);
      const bool same_cla = old_cla == previous->source->endpoints.end() ? cla == nullptr : old_cla->second.get() == cla;
      auto compiled = previous->clusters.find(name);
      if (old != previous->source->clusters.end() && old->second == cluster && same_cla &&
          compiled != previous->clusters.end()) {
        snapshot->clusters.emplace(name, compiled->second);
        continue;
      }
    }
    std::string error;
    if (auto built = upstream::BuildCluster(*cluster, cla, &error)) {
      snapshot->clusters.emplace(name, std::move(built));
    } else {
      errors->push_back("CDS " + name + ": " + error);
    }
  }
  for (const auto& [name, listener] : state->listeners) {
    const std::string rds = RdsName(*listener);
    if (rds.empty() || !listener->address().has_socket_address()) continue;
    const auto& address = listener->address().socket_address();
    snapshot->http_routes[{address.address(), static_cast<std::uint16_t>(address.port_value())}] = rds;
  }
  return snapshot;
}

}  // namespace cmesh::proxy_core
