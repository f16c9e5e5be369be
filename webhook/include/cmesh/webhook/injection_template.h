// The sidecar template: YAML text, as the injection ConfigMap holds it, rendered per pod.
//
// Placeholders are `{{ .Name }}` inside quoted YAML strings (unquoted, YAML would read the braces
// as a mapping). The template is parsed first and the placeholders are filled in the parsed tree,
// so a value can never break the YAML or inject fields, whatever it contains:
//   - "text {{ .Name }} text": the value's text is spliced in (strings, numbers, booleans only);
//   - "{{ .Name }}" alone: the node becomes the value itself (a string, a number, an object...);
//     inside a sequence, an array value is spliced in item by item, so `args: ["{{ .CaptureArgs }}"]`
//     or `["--a", "{{ .More }}"]` expand to flat lists, and an empty array leaves nothing.
// An unknown name is an error that names it and where it is.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cmesh::webhook {

class InjectionTemplate {
 public:
  // Parses the YAML. On failure returns nullopt and sets *error (with the line yaml-cpp reports).
  static std::optional<InjectionTemplate> Parse(const std::string& yaml, std::string* error);

  // Renders with `values` (a JSON object: name → value). nullopt and *error on an unknown name, or a
  // structured value spliced into text.
  std::optional<nlohmann::json> Render(const nlohmann::json& values, std::string* error) const;

  const nlohmann::json& tree() const { return tree_; }

 private:
  nlohmann::json tree_;
};

// The default template, webhook/injection-template.yaml, compiled in (the chart ships the same file).
const std::string& DefaultInjectionTemplate();

}  // namespace cmesh::webhook
