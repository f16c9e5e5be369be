// Whether a pod gets the sidecar: Istio's rules, decided from the pod and its namespace's labels.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cmesh::webhook {

using Labels = std::map<std::string, std::string>;

inline constexpr const char* kInjectLabel = "sidecar.istio.io/inject";        // label or annotation
inline constexpr const char* kNamespaceInjectionLabel = "istio-injection";    // enabled | disabled
inline constexpr const char* kRevisionLabel = "istio.io/rev";                 // namespace or pod
inline constexpr const char* kStatusAnnotation = "sidecar.istio.io/status";
inline constexpr const char* kProxyContainerName = "cmesh-proxy";
inline constexpr const char* kInitContainerName = "cmesh-init";

struct PolicyOptions {
  std::string revision = "default";  // the istio.io/rev value this control plane answers to
  // Never injected, whatever their labels: the control plane's own namespace and the system ones.
  std::vector<std::string> excluded_namespaces = {"istio-system", "kube-system", "kube-public", "kube-node-lease"};
};

struct PolicyDecision {
  bool inject = false;
  std::string reason;                 // why, for logs and tests ("namespace not labelled", ...)
  std::vector<std::string> warnings;  // e.g. an inject value that is neither true nor false
};

// The rules, in order (the first that applies decides):
//  1. hostNetwork pods are never injected (the rules would capture the node's traffic);
//  2. nor pods of an excluded namespace;
//  3. a namespace labelled istio-injection=disabled opts every pod out;
//  4. the pod's sidecar.istio.io/inject, the label if present (it wins over the annotation of the
//     same name), else the annotation: "true" injects, "false" does not;
//  5. the pod's istio.io/rev label naming our revision injects;
//  6. the namespace: istio-injection=enabled, or (without istio-injection) istio.io/rev naming
//     our revision, injects; anything else does not.
// Boolean values are read as Go's strconv.ParseBool reads them (Istio's parser): 1/t/T/TRUE/true/
// True and their false forms; another value is ignored with a warning.
PolicyDecision DecideInjection(const nlohmann::json& pod, const std::string& ns, const Labels& namespace_labels,
                               const PolicyOptions& options);

// The pod carries the sidecar already (the status annotation, or a container named cmesh-proxy).
bool AlreadyInjected(const nlohmann::json& pod);

// metadata.labels / metadata.annotations as a map (string values only).
Labels StringMap(const nlohmann::json& pod, const char* field);

}  // namespace cmesh::webhook
