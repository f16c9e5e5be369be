#include "cmesh/kube_source/watched_kinds.h"

namespace cmesh::kube_source {
namespace {

using nlohmann::json;

// Copies `key` from `from` to `to` when present.
void Copy(const json& from, json& to, const char* key) {
  if (from.is_object()) {
    auto it = from.find(key);
    if (it != from.end() && !it->is_null()) to[key] = *it;
  }
}

const json& Field(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// name, namespace, labels, and annotations other than kubectl's copy of the last applied object
// (large, and a second copy of the spec).
json Metadata(const json& object, bool annotations) {
  const json& meta = Field(object, "metadata");
  json out = json::object();
  Copy(meta, out, "name");
  Copy(meta, out, "namespace");
  Copy(meta, out, "labels");
  if (annotations) {
    json kept = json::object();
    const json& all = Field(meta, "annotations");
    if (all.is_object()) {
      for (const auto& [key, value] : all.items()) {
        if (key != "kubectl.kubernetes.io/last-applied-configuration") kept[key] = value;
      }
    }
    if (!kept.empty()) out["annotations"] = std::move(kept);
  }
  return out;
}

json Header(const char* api_version, const char* kind, json metadata) {
  return json{{"apiVersion", api_version}, {"kind", kind}, {"metadata", std::move(metadata)}};
}

json ReduceIstio(const json& object, const char* kind) {
  json meta = Metadata(object, true);
  Copy(Field(object, "metadata"), meta, "generation");
  Copy(Field(object, "metadata"), meta, "resourceVersion");
  json out = Header("networking.istio.io/v1", kind, std::move(meta));
  Copy(object, out, "spec");
  Copy(object, out, "status");
  return out;
}

json ReduceVirtualService(const json& object) { return ReduceIstio(object, "VirtualService"); }
json ReduceDestinationRule(const json& object) { return ReduceIstio(object, "DestinationRule"); }

json ReduceService(const json& object) {
  json out = Header("v1", "Service", Metadata(object, true));
  const json& spec = Field(object, "spec");
  json kept = json::object();
  for (const char* key : {"type", "clusterIP", "ports", "selector", "externalName"}) Copy(spec, kept, key);
  out["spec"] = std::move(kept);
  return out;
}

json ReducePod(const json& object) {
  json meta = Metadata(object, false);
  Copy(Field(object, "metadata"), meta, "deletionTimestamp");
  json out = Header("v1", "Pod", std::move(meta));
  const json& spec = Field(object, "spec");
  json kept_spec = json::object();
  Copy(spec, kept_spec, "nodeName");
  Copy(spec, kept_spec, "hostNetwork");
  json containers = json::array();
  const json& all = Field(spec, "containers");
  if (all.is_array()) {
    for (const json& container : all) {
      json kept = json::object();
      Copy(container, kept, "name");
      Copy(container, kept, "ports");
      containers.push_back(std::move(kept));
    }
  }
  kept_spec["containers"] = std::move(containers);
  out["spec"] = std::move(kept_spec);
  const json& status = Field(object, "status");
  json kept_status = json::object();
  Copy(status, kept_status, "phase");
  Copy(status, kept_status, "podIP");
  const json& conditions = Field(status, "conditions");
  if (conditions.is_array()) {
    for (const json& condition : conditions) {
      if (condition.is_object() && condition.value("type", "") == "Ready") {
        kept_status["conditions"] = json::array({json{{"type", "Ready"}, {"status", condition.value("status", "")}}});
      }
    }
  }
  out["status"] = std::move(kept_status);
  return out;
}

json ReduceEndpointSlice(const json& object) {
  json out = Header("discovery.k8s.io/v1", "EndpointSlice", Metadata(object, false));
  Copy(object, out, "addressType");
  Copy(object, out, "ports");
  json endpoints = json::array();
  const json& all = Field(object, "endpoints");
  if (all.is_array()) {
    for (const json& endpoint : all) {
      json kept = json::object();
      for (const char* key : {"addresses", "conditions", "nodeName", "zone"}) Copy(endpoint, kept, key);
      const json& target = Field(endpoint, "targetRef");
      if (target.is_object()) {
        json ref = json::object();
        for (const char* key : {"kind", "name", "namespace"}) Copy(target, ref, key);
        kept["targetRef"] = std::move(ref);
      }
      endpoints.push_back(std::move(kept));
    }
  }
  out["endpoints"] = std::move(endpoints);
  return out;
}

json ReduceNamespace(const json& object) { return Header("v1", "Namespace", Metadata(object, false)); }

}  // namespace

const std::vector<WatchedKind>& WatchedKinds() {
  static const std::vector<WatchedKind> kinds = {
      {{"networking.istio.io", "v1", "virtualservices", "VirtualService", true}, ReduceVirtualService, true},
      {{"networking.istio.io", "v1", "destinationrules", "DestinationRule", true}, ReduceDestinationRule, true},
      {{"", "v1", "services", "Service", true}, ReduceService, false},
      {{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true}, ReduceEndpointSlice, false},
      {{"", "v1", "pods", "Pod", true}, ReducePod, false},
      {{"", "v1", "namespaces", "Namespace", false}, ReduceNamespace, false},
  };
  return kinds;
}

json ModelInput(const json& reduced) {
  json out = reduced;
  if (auto meta = out.find("metadata"); meta != out.end() && meta->is_object()) {
    meta->erase("resourceVersion");
    meta->erase("generation");
  }
  out.erase("status");
  if (reduced.value("kind", "") == "Pod") out["status"] = reduced.at("status");
  return out;
}

}  // namespace cmesh::kube_source
