#include "cmesh/xds/resource.h"

#include <cstdint>
#include <cstdio>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace cmesh::xds {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// Deterministic, so map fields (metadata, typed_filter_config) always produce the same bytes and
// the content version only changes when the content does.
std::string SerializeDeterministic(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

ResourcePtr Make(ResourceType type, const std::string& name, std::string version,
                 const google::protobuf::Message& message, std::vector<std::string> dependencies) {
  auto resource = std::make_shared<Resource>();
  resource->type = type;
  resource->name = name;
  resource->body.set_type_url(std::string(TypeUrl(type)));
  resource->body.set_value(SerializeDeterministic(message));
  resource->version = version.empty() ? ContentVersion(resource->body.value()) : std::move(version);
  resource->dependencies = std::move(dependencies);
  return resource;
}

void AddRdsName(const google::protobuf::Any& config, std::vector<std::string>& names) {
  HttpConnectionManager hcm;
  if (!config.UnpackTo(&hcm)) return;
  if (hcm.has_rds() && !hcm.rds().route_config_name().empty()) names.push_back(hcm.rds().route_config_name());
}

std::vector<std::string> RdsNames(const envoy::config::listener::v3::Listener& listener) {
  std::vector<std::string> names;
  if (listener.has_api_listener()) AddRdsName(listener.api_listener().api_listener(), names);
  auto add_chain = [&](const envoy::config::listener::v3::FilterChain& chain) {
    for (const auto& filter : chain.filters()) {
      if (filter.has_typed_config() && filter.typed_config().Is<HttpConnectionManager>()) {
        AddRdsName(filter.typed_config(), names);
      }
    }
  };
  for (const auto& chain : listener.filter_chains()) add_chain(chain);
  if (listener.has_default_filter_chain()) add_chain(listener.default_filter_chain());
  return names;
}

}  // namespace

std::string ContentVersion(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

ResourcePtr MakeResource(const envoy::config::listener::v3::Listener& listener, std::string version) {
  return Make(ResourceType::kListener, listener.name(), std::move(version), listener, RdsNames(listener));
}

ResourcePtr MakeResource(const envoy::config::route::v3::RouteConfiguration& route, std::string version) {
  return Make(ResourceType::kRoute, route.name(), std::move(version), route, {});
}

ResourcePtr MakeResource(const envoy::config::cluster::v3::Cluster& cluster, std::string version) {
  std::vector<std::string> dependencies;
  if (cluster.has_type() && cluster.type() == envoy::config::cluster::v3::Cluster::EDS) {
    // Envoy loads the assignment named by service_name, or the cluster's own name when unset.
    const std::string& service = cluster.eds_cluster_config().service_name();
    dependencies.push_back(service.empty() ? cluster.name() : service);
  }
  return Make(ResourceType::kCluster, cluster.name(), std::move(version), cluster, std::move(dependencies));
}

ResourcePtr MakeResource(const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment,
                         std::string version) {
  return Make(ResourceType::kEndpoint, assignment.cluster_name(), std::move(version), assignment, {});
}

}  // namespace cmesh::xds
