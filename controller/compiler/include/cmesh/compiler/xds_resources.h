// The compiler's output for one proxy: the four Envoy v3 resource types, each sorted by name,
// with a content-hash version per resource and per type.
#pragma once

#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace cmesh::compiler {

template <typename T>
struct Versioned {
  T resource;
  std::string version;  // hex digest of the resource's deterministic serialisation
};

struct XdsResources {
  std::vector<Versioned<envoy::config::listener::v3::Listener>> listeners;
  std::vector<Versioned<envoy::config::route::v3::RouteConfiguration>> routes;
  std::vector<Versioned<envoy::config::cluster::v3::Cluster>> clusters;
  std::vector<Versioned<envoy::config::endpoint::v3::ClusterLoadAssignment>> endpoints;
  std::vector<std::string> warnings;  // e.g. two VirtualServices claim one host; tls ignored

  // Version of each type's whole set: a digest of its resources' names and versions.
  std::string ListenersVersion() const;
  std::string RoutesVersion() const;
  std::string ClustersVersion() const;
  std::string EndpointsVersion() const;
};

}  // namespace cmesh::compiler
