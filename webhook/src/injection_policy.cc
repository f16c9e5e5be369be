#include "cmesh/webhook/injection_policy.h"

#include <algorithm>
#include <optional>

namespace cmesh::webhook {
namespace {

std::optional<bool> ParseBool(const std::string& text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" || text == "True") return true;
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" || text == "False") return false;
  return std::nullopt;
}

}  // namespace

Labels StringMap(const nlohmann::json& pod, const char* field) {
  Labels out;
  if (!pod.is_object()) return out;
  auto meta = pod.find("metadata");
  if (meta == pod.end() || !meta->is_object()) return out;
  auto map = meta->find(field);
  if (map == meta->end() || !map->is_object()) return out;
  for (const auto& [key, value] : map->items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
  }
  return out;
}

bool AlreadyInjected(const nlohmann::json& pod) {
  if (StringMap(pod, "annotations").count(kStatusAnnotation) > 0) return true;
  const nlohmann::json* containers = nullptr;
  if (pod.is_object() && pod.contains("spec") && pod["spec"].is_object() && pod["spec"].contains("containers")) {
    containers = &pod["spec"]["containers"];
  }
  if (containers == nullptr || !containers->is_array()) return false;
  return std::any_of(containers->begin(), containers->end(), [](const nlohmann::json& c) {
    return c.is_object() && c.value("name", nlohmann::json()) == kProxyContainerName;
  });
}

PolicyDecision DecideInjection(const nlohmann::json& pod, const std::string& ns, const Labels& namespace_labels,
                               const PolicyOptions& options) {
  PolicyDecision d;
  const nlohmann::json spec = pod.is_object() ? pod.value("spec", nlohmann::json::object()) : nlohmann::json::object();
  if (spec.is_object() && spec.value("hostNetwork", nlohmann::json(false)) == true) {
    d.reason = "hostNetwork pod";
    return d;
  }
  if (std::find(options.excluded_namespaces.begin(), options.excluded_namespaces.end(), ns) !=
      options.excluded_namespaces.end()) {
    d.reason = "namespace " + ns + " is excluded from injection";
    return d;
  }
  auto ns_injection = namespace_labels.find(kNamespaceInjectionLabel);
  if (ns_injection != namespace_labels.end() && ns_injection->second == "disabled") {
    d.reason = "namespace " + ns + " is labelled istio-injection=disabled";
    return d;
  }
  const Labels labels = StringMap(pod, "labels");
  const Labels annotations = StringMap(pod, "annotations");
  auto explicit_value = [&](const Labels& map, const char* what) -> std::optional<bool> {
    auto it = map.find(kInjectLabel);
    if (it == map.end()) return std::nullopt;
    auto value = ParseBool(it->second);
    if (!value) {
      d.warnings.push_back(std::string("the pod's ") + what + " " + kInjectLabel + "=\"" + it->second +
                           "\" is neither true nor false; ignored");
    }
    return value;
  };
  std::optional<bool> pod_choice = explicit_value(labels, "label");
  const char* source = "label";
  if (!pod_choice && labels.count(kInjectLabel) == 0) {
    pod_choice = explicit_value(annotations, "annotation");
    source = "annotation";
  }
  if (pod_choice) {
    d.inject = *pod_choice;
    d.reason = std::string("pod ") + source + " " + kInjectLabel + "=" + (*pod_choice ? "true" : "false");
    return d;
  }
  if (auto rev = labels.find(kRevisionLabel); rev != labels.end() && rev->second == options.revision) {
    d.inject = true;
    d.reason = "pod label istio.io/rev=" + rev->second;
    return d;
  }
  if (ns_injection != namespace_labels.end()) {
    d.inject = ns_injection->second == "enabled";
    d.reason = "namespace label istio-injection=" + ns_injection->second;
    return d;
  }
  if (auto rev = namespace_labels.find(kRevisionLabel); rev != namespace_labels.end()) {
    d.inject = rev->second == options.revision;
    d.reason = "namespace label istio.io/rev=" + rev->second +
               (d.inject ? "" : " (this control plane is revision " + options.revision + ")");
    return d;
  }
  d.reason = "namespace " + ns + " is not labelled for injection";
  return d;
}

}  // namespace cmesh::webhook
