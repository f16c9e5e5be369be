// The /inject handler: decides whether a pod gets the sidecar (injection_policy.h), renders the
// template for it (injection_template.h) and answers with a JSONPatch. It never rejects a pod: one
// it cannot handle is admitted unchanged with a warning.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/webhook/admission_review.h"
#include "cmesh/webhook/injection_policy.h"
#include "cmesh/webhook/injection_template.h"

namespace cmesh::webhook {

// A namespace's labels, or nullopt when it is not known (cmesh-pilot: its Namespace informer's
// cache; tests: a fake). Called on the request's thread.
using NamespaceLabelsLookup = std::function<std::optional<Labels>(const std::string& ns)>;

struct InjectorConfig {
  std::string template_yaml = DefaultInjectionTemplate();
  PolicyOptions policy;
  std::string proxy_image = "cmesh/proxy:latest";
  std::string image_pull_policy = "IfNotPresent";
  std::string pilot_address = "cmesh-pilot.istio-system.svc:15010";
  int concurrency = 2;
  std::string log_level = "info";
  std::string drain_duration = "5s";
  int pre_stop_sleep_seconds = 5;
  std::vector<std::string> image_pull_secrets;
  // Overridden per pod by the sidecar.istio.io/proxyCPU, proxyMemory, proxyCPULimit and
  // proxyMemoryLimit annotations, as Istio does.
  nlohmann::json proxy_resources = {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}},
                                    {"limits", {{"cpu", "2000m"}, {"memory", "1Gi"}}}};
  nlohmann::json init_resources = {{"requests", {{"cpu", "10m"}, {"memory", "10Mi"}}},
                                   {"limits", {{"cpu", "100m"}, {"memory", "50Mi"}}}};
  // More template values (name → JSON value), for a custom template; they may not shadow the
  // built-in names.
  nlohmann::json extra_values = nlohmann::json::object();
};

struct InjectionResult {
  enum class Outcome {
    kInjected,         // patch holds the operations
    kNotSelected,      // the policy said no (reason says why)
    kAlreadyInjected,  // a no-op
    kFailed,           // the pod could not be handled: admitted unchanged, warnings say why
  };
  Outcome outcome = Outcome::kNotSelected;
  std::string reason;
  nlohmann::json patch = nlohmann::json::array();  // RFC 6902 operations against the pod
  std::vector<std::string> warnings;
};

class Injector {
 public:
  Injector(InjectorConfig config, NamespaceLabelsLookup namespace_labels);

  // Set when the configured template does not parse: every pod is then admitted unchanged with
  // this as its warning. cmesh-pilot logs it at start.
  const std::string& template_error() const { return template_error_; }

  // One pod (the admission request's object), in namespace `ns` (the request's namespace; the
  // pod's own metadata.namespace is often empty at CREATE).
  InjectionResult InjectPod(const nlohmann::json& pod, const std::string& ns) const;

  // The /inject answer for a decoded AdmissionReview request. Anything that is not a Pod CREATE is
  // allowed untouched.
  AdmissionResponse Handle(const AdmissionRequest& request) const;

  // The template values for `pod` (what Render gets), for tests and debugging.
  std::optional<nlohmann::json> TemplateValues(const nlohmann::json& pod, const std::string& ns,
                                               std::vector<std::string>* errors,
                                               std::vector<std::string>* warnings) const;

 private:
  InjectorConfig config_;
  NamespaceLabelsLookup namespace_labels_;
  std::optional<InjectionTemplate> template_;
  std::string template_error_;
};

}  // namespace cmesh::webhook
