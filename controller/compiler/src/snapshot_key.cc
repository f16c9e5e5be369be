#include "cmesh/compiler/snapshot_key.h"

#include "config_index.h"

namespace cmesh::compiler {

std::string ProxySnapshotKey(const ConfigIndex& index, const ProxyNode& proxy) {
  const model::Pod* pod = nullptr;
  auto it = index.services->pods.find({proxy.ns, proxy.pod_name});
  if (it != index.services->pods.end()) pod = it->second;
  // The same rule as ProxyView: explicit labels, else the pod's.
  const model::Labels& labels = !proxy.labels.empty() || pod == nullptr ? proxy.labels : pod->meta.labels;
  std::string key = "ns=" + proxy.ns + ";labels=";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (index.relevant_label_keys.count(k) == 0) continue;
    if (!first) key += ",";
    key += k + "=" + v;
    first = false;
  }
  key += ";ports=";
  if (pod != nullptr) {
    first = true;
    for (const auto& p : pod->ports) {
      if (p.name.empty()) continue;
      if (!first) key += ",";
      key += p.name + "=" + std::to_string(p.container_port);
      first = false;
    }
  }
  // The address family decides DNS clusters' lookup family (see cluster_builder.h); only IPv6
  // proxies get a suffix, so IPv4 keys are as they were.
  if (proxy.ip.find(':') != std::string::npos) key += ";ip6";
  return key;
}

}  // namespace cmesh::compiler
