#include "chart_render.h"

#include "kube_env.h"
#include "test_paths.h"

namespace cmesh::testing {

YAML::Node Rendered::Find(const std::string& kind, const std::string& name) const {
  for (const YAML::Node& o : objects) {
    if (o["kind"].as<std::string>("") == kind && o["metadata"]["name"].as<std::string>("") == name) return o;
  }
  return YAML::Node();
}

std::vector<YAML::Node> Rendered::All(const std::string& kind) const {
  std::vector<YAML::Node> out;
  for (const YAML::Node& o : objects) {
    if (o["kind"].as<std::string>("") == kind) out.push_back(o);
  }
  return out;
}

Rendered HelmTemplate(const std::string& release, const std::string& chart, const std::vector<std::string>& args) {
  Rendered out;
  std::vector<std::string> argv = {KubeBin("helm"), "template", release, SourceDir() + "/charts/" + chart,
                                   "--namespace", "istio-system"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv);
  if (r.exit_code != 0) {
    out.error = "helm template " + chart + ": " + r.err + r.out;
    return out;
  }
  try {
    for (YAML::Node& doc : YAML::LoadAll(r.out)) {
      if (doc.IsMap()) out.objects.push_back(doc);
    }
  } catch (const YAML::Exception& e) {
    out.error = std::string("helm template ") + chart + " printed no YAML: " + e.what();
  }
  return out;
}

bool SelectorMatches(const YAML::Node& selector, const std::map<std::string, std::string>& labels) {
  if (!selector || selector.IsNull()) return true;
  for (const auto& kv : selector["matchLabels"]) {
    auto it = labels.find(kv.first.as<std::string>());
    if (it == labels.end() || it->second != kv.second.as<std::string>()) return false;
  }
  for (const YAML::Node& e : selector["matchExpressions"]) {
    const std::string key = e["key"].as<std::string>();
    const std::string op = e["operator"].as<std::string>();
    const auto it = labels.find(key);
    bool in_values = false;
    if (it != labels.end()) {
      for (const YAML::Node& v : e["values"]) in_values = in_values || v.as<std::string>() == it->second;
    }
    if (op == "In" && !in_values) return false;
    if (op == "NotIn" && in_values) return false;  // an absent key is "not in", as Kubernetes has it
    if (op == "Exists" && it == labels.end()) return false;
    if (op == "DoesNotExist" && it != labels.end()) return false;
    if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist") return false;
  }
  return true;
}

}  // namespace cmesh::testing
