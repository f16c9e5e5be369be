#include "cmesh/webhook/injector.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "cmesh/webhook/capture_args.h"
#include "cmesh/webhook/json_patch.h"

namespace cmesh::webhook {
namespace {

constexpr const char* kNotInjected = "cmesh: sidecar not injected: ";

// A Kubernetes resource quantity ("100m", "1.5Gi", "2e3"): what the apiserver would accept, so an
// annotation it would refuse after our patch never turns into a rejected pod.
bool ValidQuantity(const std::string& text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const std::size_t digits_start = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  bool digits = i > digits_start;
  if (i < text.size() && text[i] == '.') {
    ++i;
    const std::size_t fraction = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    digits = digits || i > fraction;
  }
  if (!digits) return false;
  const std::string suffix = text.substr(i);
  static const std::set<std::string> kSuffixes = {"",  "n",  "u",  "m",  "k",  "M",  "G",  "T",  "P",
                                                  "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (kSuffixes.count(suffix) > 0) return true;
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::size_t j = 1;
    if (suffix[j] == '+' || suffix[j] == '-') ++j;
    if (j >= suffix.size()) return false;
    return std::all_of(suffix.begin() + static_cast<std::ptrdiff_t>(j), suffix.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  }
  return false;
}

std::vector<std::string> Names(const nlohmann::json& items) {
  std::vector<std::string> names;
  if (!items.is_array()) return names;
  for (const auto& item : items) {
    if (item.is_object() && item.contains("name") && item["name"].is_string()) names.push_back(item["name"]);
  }
  return names;
}

// Checks the rendered template's shape and that nothing it adds clashes with the pod's own.
bool CheckRendered(const nlohmann::json& rendered, const nlohmann::json& pod, std::string* error) {
  static const std::set<std::string> kKeys = {"initContainers", "containers", "volumes", "imagePullSecrets",
                                              "annotations"};
  for (const auto& [key, value] : rendered.items()) {
    if (kKeys.count(key) == 0) {
      *error = "the injection template has an unknown top-level key \"" + key +
               "\" (initContainers, containers, volumes, imagePullSecrets, annotations)";
      return false;
    }
    if (value.is_null()) continue;
    if (key == "annotations") {
      if (!value.is_object()) {
        *error = "the injection template's annotations must be a mapping";
        return false;
      }
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) {
          *error = "the injection template's annotation " + k + " must be a string";
          return false;
        }
      }
      continue;
    }
    if (!value.is_array()) {
      *error = "the injection template's " + key + " must be a list";
      return false;
    }
    for (const auto& item : value) {
      if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
          item["name"].get<std::string>().empty()) {
        *error = "every item of the injection template's " + key + " needs a name";
        return false;
      }
    }
  }
  const nlohmann::json& spec = pod["spec"];
  auto clash = [&](const char* template_key, std::initializer_list<const char*> pod_keys, const char* what) {
    if (!rendered.contains(template_key)) return false;
    std::set<std::string> taken;
    for (const char* pod_key : pod_keys) {
      if (spec.contains(pod_key)) {
        for (auto& name : Names(spec[pod_key])) taken.insert(name);
      }
    }
    for (const auto& name : Names(rendered[template_key])) {
      if (taken.count(name) > 0) {
        *error = std::string("the pod already has a ") + what + " named " + name;
        return true;
      }
    }
    return false;
  };
  if (clash("initContainers", {"initContainers", "containers"}, "container") ||
      clash("containers", {"initContainers", "containers"}, "container") ||
      clash("volumes", {"volumes"}, "volume")) {
    return false;
  }
  return true;
}

}  // namespace

Injector::Injector(InjectorConfig config, NamespaceLabelsLookup namespace_labels)
    : config_(std::move(config)), namespace_labels_(std::move(namespace_labels)) {
  template_ = InjectionTemplate::Parse(config_.template_yaml, &template_error_);
}

std::optional<nlohmann::json> Injector::TemplateValues(const nlohmann::json& pod, const std::string& ns,
                                                       std::vector<std::string>* errors,
                                                       std::vector<std::string>* warnings) const {
  const Labels labels = StringMap(pod, "labels");
  const Labels annotations = StringMap(pod, "annotations");
  CaptureArgs capture = CaptureArgsFromAnnotations(annotations);
  errors->insert(errors->end(), capture.errors.begin(), capture.errors.end());
  warnings->insert(warnings->end(), capture.warnings.begin(), capture.warnings.end());

  nlohmann::json resources = config_.proxy_resources;
  const std::pair<const char*, std::pair<const char*, const char*>> kResourceAnnotations[] = {
      {"sidecar.istio.io/proxyCPU", {"requests", "cpu"}},
      {"sidecar.istio.io/proxyMemory", {"requests", "memory"}},
      {"sidecar.istio.io/proxyCPULimit", {"limits", "cpu"}},
      {"sidecar.istio.io/proxyMemoryLimit", {"limits", "memory"}},
  };
  for (const auto& [annotation, field] : kResourceAnnotations) {
    auto it = annotations.find(annotation);
    if (it == annotations.end()) continue;
    if (!ValidQuantity(it->second)) {
      errors->push_back(std::string("annotation ") + annotation + "=\"" + it->second +
                        "\" is not a resource quantity");
      continue;
    }
    resources[field.first][field.second] = it->second;
  }

  std::string labels_flag;
  for (const auto& [key, value] : labels) {
    if (key.find(',') != std::string::npos || value.find(',') != std::string::npos) {
      // Kubernetes never allows it; a hand-made object might. --labels is comma-separated.
      errors->push_back("label " + key + " contains a comma, which --labels cannot carry");
      continue;
    }
    if (!labels_flag.empty()) labels_flag += ',';
    labels_flag += key + "=" + value;
  }
  nlohmann::json pull_secrets = nlohmann::json::array();
  for (const auto& name : config_.image_pull_secrets) pull_secrets.push_back({{"name", name}});

  const nlohmann::json& meta = pod["metadata"];
  std::string pod_name = meta.value("name", std::string());
  if (pod_name.empty()) pod_name = meta.value("generateName", std::string());

  nlohmann::json values = {
      {"PodName", pod_name},
      {"Namespace", ns},
      {"Labels", labels},
      {"Annotations", annotations},
      {"LabelsFlag", labels_flag},
      {"ServiceAccount", pod["spec"].value("serviceAccountName", std::string("default"))},
      {"ProxyImage", config_.proxy_image},
      {"ImagePullPolicy", config_.image_pull_policy},
      {"PilotAddress", config_.pilot_address},
      {"Revision", config_.policy.revision},
      {"Concurrency", std::to_string(config_.concurrency)},
      {"LogLevel", config_.log_level},
      {"DrainDuration", config_.drain_duration},
      {"PreStopSleepSeconds", std::to_string(config_.pre_stop_sleep_seconds)},
      {"CaptureArgs", capture.args},
      {"ProxyResources", resources},
      {"InitResources", config_.init_resources},
      {"ImagePullSecrets", pull_secrets},
  };
  if (config_.extra_values.is_object()) {
    for (const auto& [key, value] : config_.extra_values.items()) {
      if (!values.contains(key)) values[key] = value;
    }
  }
  if (!errors->empty()) return std::nullopt;
  return values;
}

InjectionResult Injector::InjectPod(const nlohmann::json& pod, const std::string& request_ns) const {
  InjectionResult result;
  auto fail = [&](const std::string& why) {
    result.outcome = InjectionResult::Outcome::kFailed;
    result.reason = why;
    result.patch = nlohmann::json::array();
    result.warnings.push_back(kNotInjected + why);
    return result;
  };
  if (!pod.is_object() || !pod.contains("metadata") || !pod["metadata"].is_object()) {
    return fail("the pod has no metadata");
  }
  if (!pod.contains("spec") || !pod["spec"].is_object() || !pod["spec"].contains("containers") ||
      !pod["spec"]["containers"].is_array()) {
    return fail("the pod has no spec.containers list");
  }
  if (AlreadyInjected(pod)) {
    result.outcome = InjectionResult::Outcome::kAlreadyInjected;
    result.reason = "already injected";
    return result;
  }
  std::string ns = request_ns;
  if (ns.empty()) ns = pod["metadata"].value("namespace", std::string());
  Labels ns_labels;
  if (std::optional<Labels> found = namespace_labels_ ? namespace_labels_(ns) : std::nullopt) {
    ns_labels = std::move(*found);
  } else {
    result.warnings.push_back("cmesh: namespace " + ns + " is not known; its labels are taken as empty");
  }
  PolicyDecision decision = DecideInjection(pod, ns, ns_labels, config_.policy);
  result.warnings.insert(result.warnings.end(), decision.warnings.begin(), decision.warnings.end());
  result.reason = decision.reason;
  if (!decision.inject) {
    result.outcome = InjectionResult::Outcome::kNotSelected;
    return result;
  }
  if (!template_) return fail(template_error_);

  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::optional<nlohmann::json> values = TemplateValues(pod, ns, &errors, &warnings);
  result.warnings.insert(result.warnings.end(), warnings.begin(), warnings.end());
  if (!values) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
    return fail(joined);
  }
  std::string error;
  std::optional<nlohmann::json> rendered = template_->Render(*values, &error);
  if (!rendered) return fail("injection template: " + error);
  if (!CheckRendered(*rendered, pod, &error)) return fail(error);

  auto part = [&](const char* key) {
    return rendered->contains(key) && (*rendered)[key].is_array() ? (*rendered)[key] : nlohmann::json::array();
  };
  const nlohmann::json init_containers = part("initContainers");
  const nlohmann::json containers = part("containers");
  const nlohmann::json volumes = part("volumes");
  const nlohmann::json pull_secrets = part("imagePullSecrets");

  PatchBuilder patch;
  patch.PrependToArray(pod, "/spec/initContainers", init_containers);
  patch.AppendToArray(pod, "/spec/containers", containers);
  patch.AppendToArray(pod, "/spec/volumes", volumes);
  patch.AppendToArray(pod, "/spec/imagePullSecrets", pull_secrets);

  const Labels pod_annotations = StringMap(pod, "annotations");
  // The app's own Prometheus annotations mean it set up its scraping itself: keep all of them and
  // add none of ours (a mix would scrape the wrong port or path).
  const bool app_prometheus = std::any_of(pod_annotations.begin(), pod_annotations.end(), [](const auto& entry) {
    return entry.first.rfind("prometheus.io/", 0) == 0;
  });
  if (rendered->contains("annotations") && (*rendered)["annotations"].is_object()) {
    for (const auto& [key, value] : (*rendered)["annotations"].items()) {
      if (pod_annotations.count(key) > 0) continue;
      if (app_prometheus && key.rfind("prometheus.io/", 0) == 0) continue;
      patch.SetMember(pod, "/metadata/annotations", key, value);
    }
  }
  // Istio's status shape (its key order too): what was added, so tools can tell and undo it.
  nlohmann::ordered_json status;
  status["initContainers"] = Names(init_containers);
  status["containers"] = Names(containers);
  status["volumes"] = Names(volumes);
  status["imagePullSecrets"] = pull_secrets.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(Names(pull_secrets));
  status["revision"] = config_.policy.revision;
  patch.SetMember(pod, "/metadata/annotations", kStatusAnnotation, status.dump());

  result.outcome = InjectionResult::Outcome::kInjected;
  result.patch = patch.Build();
  return result;
}

AdmissionResponse Injector::Handle(const AdmissionRequest& request) const {
  AdmissionResponse response;
  response.uid = request.uid;
  response.allowed = true;
  if (request.kind != "Pod" || !request.group.empty() || request.operation != "CREATE") return response;
  if (!request.object.is_object()) {
    response.warnings.push_back(std::string(kNotInjected) + "the request carries no pod object");
    return response;
  }
  InjectionResult result = InjectPod(request.object, request.ns);
  response.warnings = std::move(result.warnings);
  if (result.outcome == InjectionResult::Outcome::kInjected) response.patch = std::move(result.patch);
  return response;
}

}  // namespace cmesh::webhook
