#include "endpoint_builder.h"

#include <map>

#include "host_names.h"

namespace cmesh::compiler {

envoy::config::endpoint::v3::ClusterLoadAssignment BuildLoadAssignment(
    const std::string& cluster_name, const std::vector<model::ResolvedEndpoint>& endpoints,
    const model::Labels* subset_labels) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(cluster_name);
  // Localities sorted by zone; endpoints keep the index's (address, port) order.
  std::map<std::string, envoy::config::endpoint::v3::LocalityLbEndpoints> by_zone;
  for (const auto& e : endpoints) {
    if (subset_labels != nullptr && !LabelsContain(e.labels, *subset_labels)) continue;
    auto& locality = by_zone[e.zone];
    auto* lb = locality.add_lb_endpoints();
    auto* addr = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
    addr->set_address(e.address);
    addr->set_port_value(e.port);
    lb->set_health_status(e.ready ? envoy::config::core::v3::HEALTHY : envoy::config::core::v3::UNHEALTHY);
    lb->mutable_load_balancing_weight()->set_value(1);
  }
  for (auto& [zone, locality] : by_zone) {
    auto* out = cla.add_endpoints();
    *out = std::move(locality);
    // Always present, so every endpoint has a locality, even when the zone is unknown.
    auto* loc = out->mutable_locality();
    if (!zone.empty()) loc->set_zone(zone);
    out->mutable_load_balancing_weight()->set_value(static_cast<uint32_t>(out->lb_endpoints_size()));
  }
  return cla;
}

}  // namespace cmesh::compiler
