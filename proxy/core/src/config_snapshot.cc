#include "cmesh/proxy_core/config_snapshot.h"

namespace cmesh::proxy_core {
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

std::shared_ptr<const upstream::ClusterInfo> ConfigSnapshot::SharedCluster(std::string_view name) const {
  auto it = clusters.find(name);
  return it == clusters.end() ? nullptr : it->second;
}

const CompiledListener* ConfigSnapshot::ListenerAt(bool inbound, std::uint16_t port) const {
  // The listener bound to that port; else the one of that direction that the proxy's own
  // listener stands for (virtualInbound; virtualOutbound, which uses the original destination),
  // so a proxy started with other ports than the mesh's 15006/15001 still serves.
  auto it = bound_listeners.find({inbound, port});
  if (it != bound_listeners.end()) return it->second;
  return inbound ? virtual_inbound : virtual_outbound;
}

CompiledListener::Selection ConfigSnapshot::SelectChain(bool inbound, const event::Endpoint& local,
                                                        const event::Endpoint& destination) const {
  const CompiledListener* own = ListenerAt(inbound, local.port);
  if (!inbound && (own == nullptr || own->use_original_dst())) {
    auto it = listeners_by_address.find({destination.address, destination.port});
    if (it == listeners_by_address.end()) {
      const bool v6 = destination.address.find(':') != std::string::npos;
      it = listeners_by_address.find({v6 ? "::" : "0.0.0.0", destination.port});
    }
    if (it != listeners_by_address.end() && it->second != own) {
      auto selection = it->second->Select(destination);
      if (selection.http || selection.other) return selection;
    }
  }
  if (own == nullptr) return {};
  return own->Select(destination);
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
    std::shared_ptr<const CompiledListener> compiled;
    if (before) {
      auto old = before->listeners.find(name);
      auto kept = previous->listeners.find(name);
      if (old != before->listeners.end() && old->second == resource && kept != previous->listeners.end()) {
        compiled = kept->second;
      }
    }
    if (!compiled) {
      std::string error;
      compiled = CompiledListener::Build(resource.Decode(), routes, &error);
      if (!compiled) {
        errors->push_back("LDS " + name + ": " + error);
        continue;
      }
    }
    const event::Endpoint& address = compiled->address();
    if (!compiled->first_rds().empty()) snapshot->http_routes[{address.address, address.port}] = compiled->first_rds();
    if (!compiled->use_original_dst() && compiled->direction() != CompiledListener::Direction::kInbound) snapshot->listeners_by_address[{address.address, address.port}] = compiled.get();
    snapshot->listeners.emplace_hint(snapshot->listeners.end(), name, std::move(compiled));
  }
  // By name order, the first one wins each place (as the per-connection search did).
  for (const auto& [name, listener] : snapshot->listeners) {
    if (!listener->bind_to_port()) continue;
    const auto direction = listener->direction();
    const std::uint16_t port = listener->address().port;
    if (direction != CompiledListener::Direction::kOutbound) snapshot->bound_listeners.emplace(std::make_pair(true, port), listener.get());
    if (direction != CompiledListener::Direction::kInbound) snapshot->bound_listeners.emplace(std::make_pair(false, port), listener.get());
    if (direction == CompiledListener::Direction::kInbound && !snapshot->virtual_inbound) snapshot->virtual_inbound = listener.get();
    if (listener->use_original_dst() && !snapshot->virtual_outbound) snapshot->virtual_outbound = listener.get();
  }
  return snapshot;
}

}  // namespace cmesh::proxy_core
