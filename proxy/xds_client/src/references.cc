#include "cmesh/xds_client/references.h"

namespace cmesh::xds_client {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

std::optional<std::string> EdsServiceName(const envoy::config::cluster::v3::Cluster& cluster) {
  if (!cluster.has_type() || cluster.type() != envoy::config::cluster::v3::Cluster::EDS) return std::nullopt;
  const std::string& service_name = cluster.eds_cluster_config().service_name();
  return service_name.empty() ? cluster.name() : service_name;
}

void AddRdsNames(const envoy::config::listener::v3::Listener& listener, std::set<std::string, std::less<>>& names) {
  ForEachHttpConnectionManager(listener, [&](const HttpConnectionManager& hcm, bool decoded) {
    if (decoded && hcm.has_rds()) names.insert(hcm.rds().route_config_name());
  });
}

bool AnyIsType(const google::protobuf::Any& any, std::string_view full_type_name) {
  std::string_view url = any.type_url();
  std::size_t slash = url.rfind('/');
  return slash != std::string_view::npos && url.substr(slash + 1) == full_type_name;
}

}  // namespace cmesh::xds_client
