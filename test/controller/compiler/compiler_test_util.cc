#include "compiler_test_util.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "cmesh/model/parser.h"

namespace cmesh::compiler::testing {

namespace {
model::ConfigSet ConfigOf(model::ParseResult result) {
  for (const auto& d : result.diagnostics) {
    if (d.severity == model::Severity::kError) ADD_FAILURE() << d.ToString();
  }
  return std::move(result.config);
}
}  // namespace

model::ConfigSet ParseYaml(const std::string& yaml, const std::string& file_name) {
  return ConfigOf(model::ParseDocuments(yaml, file_name));
}

model::ConfigSet ParseYamlPerObject(const std::string& yaml) {
  return ConfigOf(model::ParseDocuments(yaml, "<test>", {.cross_object_checks = false}));
}

XdsResources CompileFor(const model::ConfigSet& config, const std::string& node_id, const model::Labels& labels,
                        const MeshOptions& options) {
  std::string error;
  auto node = ParseNodeId(node_id, &error);
  if (!node) {
    ADD_FAILURE() << error;
    return {};
  }
  node->labels = labels;
  auto index = BuildIndex(std::make_shared<model::ConfigSet>(config), options);
  return Compile(*index, *node, options);
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) ADD_FAILURE() << "JSON printing failed: " << status.ToString();
  return out;
}

template <typename T>
const T* FindByName(const std::vector<Versioned<T>>& items, const std::string& name) {
  for (const auto& i : items) {
    if (i.resource.name() == name) return &i.resource;
  }
  return nullptr;
}

const envoy::config::cluster::v3::Cluster* FindCluster(const XdsResources& r, const std::string& name) {
  return FindByName(r.clusters, name);
}
const envoy::config::endpoint::v3::ClusterLoadAssignment* FindEndpoints(const XdsResources& r, const std::string& name) {
  for (const auto& i : r.endpoints) {
    if (i.resource.cluster_name() == name) return &i.resource;
  }
  return nullptr;
}
const envoy::config::route::v3::RouteConfiguration* FindRoute(const XdsResources& r, const std::string& name) {
  return FindByName(r.routes, name);
}
const envoy::config::listener::v3::Listener* FindListener(const XdsResources& r, const std::string& name) {
  return FindByName(r.listeners, name);
}
const envoy::config::route::v3::VirtualHost* FindVirtualHost(const envoy::config::route::v3::RouteConfiguration& rc,
                                                            const std::string& name) {
  for (const auto& vh : rc.virtual_hosts()) {
    if (vh.name() == name) return &vh;
  }
  return nullptr;
}

std::vector<std::string> EndpointAddresses(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla) {
  std::vector<std::string> out;
  for (const auto& locality : cla.endpoints()) {
    for (const auto& lb : locality.lb_endpoints()) {
      const auto& sa = lb.endpoint().address().socket_address();
      out.push_back(sa.address() + ":" + std::to_string(sa.port_value()));
    }
  }
  return out;
}

std::string ServiceYaml(const std::string& name, const std::string& ns, const std::vector<std::string>& ports,
                        const std::string& cluster_ip, const std::string& extra_metadata) {
  std::string y = "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\n" +
                  extra_metadata + "spec:\n";
  if (!cluster_ip.empty()) y += "  clusterIP: " + cluster_ip + "\n";
  y += "  selector:\n    app: " + name + "\n  ports:\n";
  for (const auto& p : ports) {
    auto colon = p.find(':');
    y += "  - name: " + p.substr(0, colon) + "\n    port: " + p.substr(colon + 1) + "\n";
  }
  return y + "---\n";
}

std::string PodYaml(const std::string& name, const std::string& ns, const std::string& ip,
                    const model::Labels& labels, const std::string& phase, bool ready) {
  std::string y = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\n  labels:\n";
  for (const auto& [k, v] : labels) y += "    " + k + ": \"" + v + "\"\n";
  y += "spec:\n  containers:\n  - name: app\nstatus:\n  phase: " + phase + "\n";
  if (!ip.empty()) y += "  podIP: " + ip + "\n";
  y += std::string("  conditions:\n  - type: Ready\n    status: \"") + (ready ? "True" : "False") + "\"\n---\n";
  return y;
}

}  // namespace cmesh::compiler::testing
