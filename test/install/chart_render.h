// `helm template` of the charts, parsed: what test/install's chart tests look at.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace cmesh::testing {

struct Rendered {
  std::vector<YAML::Node> objects;  // one per non-empty document
  std::string error;                // helm's complaint or the YAML parser's
  // The object of that kind and name; a null node when there is none.
  YAML::Node Find(const std::string& kind, const std::string& name) const;
  std::vector<YAML::Node> All(const std::string& kind) const;
};

// KubeBin("helm") template RELEASE SourceDir()/charts/CHART --namespace istio-system ARGS...
Rendered HelmTemplate(const std::string& release, const std::string& chart, const std::vector<std::string>& args = {});

// Whether a Kubernetes LabelSelector (matchLabels, matchExpressions: In, NotIn, Exists,
// DoesNotExist) selects `labels`; an absent/null selector selects everything, as the apiserver's.
bool SelectorMatches(const YAML::Node& selector, const std::map<std::string, std::string>& labels);

}  // namespace cmesh::testing
