// Helpers for the compiler tests: parse YAML into a config, compile for a node id, find
// resources by name, print them as protobuf JSON.
#pragma once

#include <memory>
#include <string>

#include <google/protobuf/message.h>

#include "cmesh/compiler/compiler.h"
#include "cmesh/model/config_set.h"

namespace cmesh::compiler::testing {

// Parses YAML documents; fails the current test on any parse/validation error.
model::ConfigSet ParseYaml(const std::string& yaml, const std::string& file_name = "<test>");
// The same without the model's cross-object rules, for configs that only the compiler should judge
// (a hostless VirtualService no root delegates to, or a delegate parsed on its own).
model::ConfigSet ParseYamlPerObject(const std::string& yaml);

// Compiles `config` for the sidecar `node_id` (with optional explicit labels).
XdsResources CompileFor(const model::ConfigSet& config, const std::string& node_id,
                        const model::Labels& labels = {}, const MeshOptions& options = {});

// Protobuf JSON mapping, two-space indented, camelCase field names (as istioctl prints them).
std::string ToJson(const google::protobuf::Message& message);

const envoy::config::cluster::v3::Cluster* FindCluster(const XdsResources& r, const std::string& name);
const envoy::config::endpoint::v3::ClusterLoadAssignment* FindEndpoints(const XdsResources& r, const std::string& name);
const envoy::config::route::v3::RouteConfiguration* FindRoute(const XdsResources& r, const std::string& name);
const envoy::config::listener::v3::Listener* FindListener(const XdsResources& r, const std::string& name);
const envoy::config::route::v3::VirtualHost* FindVirtualHost(const envoy::config::route::v3::RouteConfiguration& rc,
                                                            const std::string& name);

// "10.1.0.23:9080" for every endpoint of a CLA, in order.
std::vector<std::string> EndpointAddresses(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla);

// A Service YAML: `name` in `ns`, one port line per entry ("http:9080", "tcp:3306", "grpc:50051").
std::string ServiceYaml(const std::string& name, const std::string& ns, const std::vector<std::string>& ports,
                        const std::string& cluster_ip = "", const std::string& extra_metadata = "");
// A Running, ready pod.
std::string PodYaml(const std::string& name, const std::string& ns, const std::string& ip,
                    const model::Labels& labels, const std::string& phase = "Running", bool ready = true);

inline const char kProductpageNode[] = "sidecar~10.1.0.10~productpage-v1-x.default~default.svc.cluster.local";

}  // namespace cmesh::compiler::testing
