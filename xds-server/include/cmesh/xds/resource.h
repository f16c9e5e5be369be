// One xDS resource at one version, serialised once. Every stream that sends this version shares
// the same immutable object (and so the same bytes) through a ResourcePtr.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "cmesh/xds/resource_type.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace cmesh::xds {

struct Resource {
  ResourceType type;
  std::string name;
  std::string version;
  // type_url is TypeUrl(type); value is the deterministic serialisation of the resource.
  google::protobuf::Any body;
  // Names this resource needs from the next type down, for the consistency check: the
  // RouteConfiguration names a listener's HTTP connection managers load over RDS, or the
  // ClusterLoadAssignment name an EDS cluster loads.
  std::vector<std::string> dependencies;
};

using ResourcePtr = std::shared_ptr<const Resource>;

// Serialise a resource once. An empty `version` means "derive it from the bytes" (a content hash),
// so an unchanged resource keeps its version across snapshots.
ResourcePtr MakeResource(const envoy::config::listener::v3::Listener& listener, std::string version = {});
ResourcePtr MakeResource(const envoy::config::route::v3::RouteConfiguration& route, std::string version = {});
ResourcePtr MakeResource(const envoy::config::cluster::v3::Cluster& cluster, std::string version = {});
ResourcePtr MakeResource(const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment,
                         std::string version = {});

// 64-bit FNV-1a of `bytes` as 16 hex digits: stable across processes, so a reconnecting client's
// versions still compare equal after a control-plane restart.
std::string ContentVersion(std::string_view bytes);

}  // namespace cmesh::xds
