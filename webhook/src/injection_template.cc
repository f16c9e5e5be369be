#include "cmesh/webhook/injection_template.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>

namespace cmesh::webhook {
namespace {

// YAML → JSON with YAML 1.2 core-schema typing of plain scalars; quoted scalars stay strings.
nlohmann::json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = ToJson(entry.second);
      return out;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return text;  // quoted, or explicitly tagged: a string
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
  long long integer = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (!text.empty() && text[0] == '+') ++begin;
  if (auto [ptr, ec] = std::from_chars(begin, end, integer); ec == std::errc() && ptr == end && begin != end) {
    return integer;
  }
  double real = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, real); ec == std::errc() && ptr == end && begin != end &&
                                                            text.find_first_of(".eE") != std::string::npos) {
    return real;
  }
  return text;
}

// A placeholder "{{ .Name }}" at `pos` (which points at "{{"): its name and where it ends.
bool ReadPlaceholder(const std::string& text, std::size_t pos, std::string* name, std::size_t* end) {
  const std::size_t close = text.find("}}", pos + 2);
  if (close == std::string::npos) return false;
  std::string inner = text.substr(pos + 2, close - pos - 2);
  std::size_t b = inner.find_first_not_of(' ');
  std::size_t e = inner.find_last_not_of(' ');
  if (b == std::string::npos) return false;
  inner = inner.substr(b, e - b + 1);
  if (inner.size() < 2 || inner[0] != '.') return false;
  for (std::size_t i = 1; i < inner.size(); ++i) {
    if (!std::isalnum(static_cast<unsigned char>(inner[i])) && inner[i] != '_') return false;
  }
  *name = inner.substr(1);
  *end = close + 2;
  return true;
}

class Renderer {
 public:
  Renderer(const nlohmann::json& values, std::string* error) : values_(values), error_(error) {}

  // Renders `node` into `out`; `spliced` is set when the node was a whole placeholder with an
  // array value (the caller, a sequence, then splices its items).
  bool Node(const nlohmann::json& node, const std::string& where, nlohmann::json* out, bool* spliced) {
    *spliced = false;
    if (node.is_object()) {
      *out = nlohmann::json::object();
      for (const auto& [key, child] : node.items()) {
        nlohmann::json rendered;
        bool ignored = false;
        if (!Node(child, where + "." + key, &rendered, &ignored)) return false;
        (*out)[key] = std::move(rendered);
      }
      return true;
    }
    if (node.is_array()) {
      *out = nlohmann::json::array();
      for (std::size_t i = 0; i < node.size(); ++i) {
        nlohmann::json rendered;
        bool splice = false;
        if (!Node(node[i], where + "[" + std::to_string(i) + "]", &rendered, &splice)) return false;
        if (splice) {
          for (auto& item : rendered) out->push_back(std::move(item));
        } else {
          out->push_back(std::move(rendered));
        }
      }
      return true;
    }
    if (!node.is_string()) {
      *out = node;
      return true;
    }
    return String(node.get<std::string>(), where, out, spliced);
  }

 private:
  const nlohmann::json* Lookup(const std::string& name, const std::string& where) {
    auto it = values_.find(name);
    if (it == values_.end()) {
      *error_ = "unknown template value {{ ." + name + " }} at " + where;
      return nullptr;
    }
    return &*it;
  }

  bool String(const std::string& text, const std::string& where, nlohmann::json* out, bool* spliced) {
    std::string name;
    std::size_t end = 0;
    const std::size_t first = text.find("{{");
    if (first == std::string::npos) {
      *out = text;
      return true;
    }
    // The whole scalar is one placeholder: the value itself.
    if (first == 0 && ReadPlaceholder(text, 0, &name, &end) && end == text.size()) {
      const nlohmann::json* value = Lookup(name, where);
      if (value == nullptr) return false;
      *out = *value;
      *spliced = value->is_array();
      return true;
    }
    std::string result;
    std::size_t pos = 0;
    while (true) {
      const std::size_t open = text.find("{{", pos);
      if (open == std::string::npos) break;
      if (!ReadPlaceholder(text, open, &name, &end)) {
        *error_ = "malformed placeholder in \"" + text + "\" at " + where + " (expected {{ .Name }})";
        return false;
      }
      result += text.substr(pos, open - pos);
      const nlohmann::json* value = Lookup(name, where);
      if (value == nullptr) return false;
      if (value->is_string()) {
        result += value->get<std::string>();
      } else if (value->is_number() || value->is_boolean()) {
        result += value->dump();
      } else {
        *error_ = "{{ ." + name + " }} is a list or an object and cannot be part of the text at " + where;
        return false;
      }
      pos = end;
    }
    result += text.substr(pos);
    *out = std::move(result);
    return true;
  }

  const nlohmann::json& values_;
  std::string* error_;
};

}  // namespace

std::optional<InjectionTemplate> InjectionTemplate::Parse(const std::string& yaml, std::string* error) {
  InjectionTemplate t;
  try {
    t.tree_ = ToJson(YAML::Load(yaml));
  } catch (const YAML::Exception& e) {
    *error = std::string("injection template: ") + e.what();
    return std::nullopt;
  }
  if (!t.tree_.is_object()) {
    *error = "injection template: the top level must be a mapping (initContainers, containers, ...)";
    return std::nullopt;
  }
  return t;
}

std::optional<nlohmann::json> InjectionTemplate::Render(const nlohmann::json& values, std::string* error) const {
  Renderer renderer(values, error);
  nlohmann::json out;
  bool spliced = false;
  if (!renderer.Node(tree_, "template", &out, &spliced)) return std::nullopt;
  return out;
}

}  // namespace cmesh::webhook
