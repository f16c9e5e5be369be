
#include "cmesh/xds_client/xds_client.h"

namespace cmesh::xds_client {

envoy::config::core::v3::Node XdsClient::BuildNode(const XdsClientOptions& options) {
  envoy::config::core::v3::Node node;
  node.set_id(options.node_id);
  node.set_cluster(options.node_cluster);
  node.set_user_agent_name("cmesh-proxy");
  node.set_user_agent_version(options.proxy_version);
  // Present and empty: the proxy has no locality of its own yet, and some servers (grpc-js's
  // bootstrap rules, for one) expect the field.
  node.mutable_locality();
  auto& fields = *node.mutable_metadata()->mutable_fields();
  // Istio's bootstrap keys, which the pilot reads (LABELS decide sourceLabels matches).
  if (!options.namespace_name.empty()) fields["NAMESPACE"].set_string_value(options.namespace_name);
  auto& labels = *fields["LABELS"].mutable_struct_value()->mutable_fields();
  for (const auto& [key, value] : options.labels) labels[key].set_string_value(value);
  if (!options.instance_ips.empty()) {
    std::string ips;
    for (const std::string& ip : options.instance_ips) ips += (ips.empty() ? "" : ",") + ip;
    fields["INSTANCE_IPS"].set_string_value(ips);
  }
  if (!options.proxy_version.empty()) fields["CMESH_VERSION"].set_string_value(options.proxy_version);
  return node;
}

}  // namespace cmesh::xds_client
