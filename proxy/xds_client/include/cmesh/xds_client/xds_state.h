// The configuration the xDS client hands to the proxy: the accepted resources of every type, by
// name, with the version each type was ACKed at. Immutable once delivered; resources unchanged
// between two states are the same objects, so a consumer can compare pointers to skip rebuilding.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cmesh/xds_client/xds_type.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace cmesh::xds_client {

template <typename T>
using ResourceMap = std::map<std::string, std::shared_ptr<const T>, std::less<>>;

struct XdsState {
  ResourceMap<envoy::config::cluster::v3::Cluster> clusters;
  // By EDS service name (the cluster's eds_cluster_config.service_name, else its name).
  ResourceMap<envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints;
  ResourceMap<envoy::config::listener::v3::Listener> listeners;
  ResourceMap<envoy::config::route::v3::RouteConfiguration> routes;

  // version_info of the last accepted response, per type (empty: none accepted).
  std::array<std::string, kXdsTypeCount> versions;
  // Names referenced but not (yet) received, as "EDS NAME" / "RDS NAME". Empty except when the
  // client stopped waiting for them: the very first config once every type was answered, or a
  // name still missing after the warming timeout.
  std::vector<std::string> missing;
  // 1 for the first state delivered, then +1 per delivery.
  std::uint64_t generation = 0;

  const std::string& version(XdsType type) const { return versions[Index(type)]; }
  bool complete() const { return missing.empty(); }
};

using XdsStatePtr = std::shared_ptr<const XdsState>;

}  // namespace cmesh::xds_client
