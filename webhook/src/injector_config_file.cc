#include "cmesh/webhook/injector_config_file.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace cmesh::webhook {
namespace {

nlohmann::json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = ToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return node.as<std::string>();
    default:
      return nullptr;
  }
}

class Reader {
 public:
  Reader(std::string file, std::string* error) : file_(std::move(file)), error_(error) {}

  bool Fail(const std::string& field, const std::string& why) {
    *error_ = file_ + ": " + field + ": " + why;
    return false;
  }

  bool OnlyKeys(const YAML::Node& map, const std::string& where, const std::set<std::string>& keys) {
    if (!map.IsMap()) return Fail(where, "must be a mapping");
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (!keys.count(key)) return Fail(where.empty() ? key : where + "." + key, "unknown field");
    }
    return true;
  }

  bool String(const YAML::Node& map, const char* key, const std::string& where, std::string* out) {
    if (!map[key]) return true;
    if (!map[key].IsScalar()) return Fail(where + key, "must be a string");
    *out = map[key].as<std::string>();
    return true;
  }

  bool Int(const YAML::Node& map, const char* key, const std::string& where, int min, int* out) {
    if (!map[key]) return true;
    try {
      const int v = map[key].as<int>();
      if (v < min) return Fail(where + key, "must be at least " + std::to_string(min));
      *out = v;
      return true;
    } catch (const YAML::Exception&) {
      return Fail(where + key, "must be an integer");
    }
  }

  bool Strings(const YAML::Node& map, const char* key, const std::string& where, std::vector<std::string>* out) {
    if (!map[key]) return true;
    if (!map[key].IsSequence()) return Fail(where + key, "must be a list of strings");
    out->clear();
    for (const auto& item : map[key]) {
      if (!item.IsScalar()) return Fail(where + key, "must be a list of strings");
      out->push_back(item.as<std::string>());
    }
    return true;
  }

 private:
  std::string file_;
  std::string* error_;
};

}  // namespace

std::optional<InjectorConfig> ParseInjectorConfig(const std::string& yaml, const std::string& file,
                                                  InjectorConfig config, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    *error = file + ": not YAML: " + e.what();
    return std::nullopt;
  }
  if (root.IsNull()) return config;
  Reader r(file, error);
  if (!r.OnlyKeys(root, "", {"template", "values", "policy"})) return std::nullopt;
  if (!r.String(root, "template", "", &config.template_yaml)) return std::nullopt;
  if (const auto values = root["values"]) {
    if (!r.OnlyKeys(values, "values",
                    {"proxyImage", "imagePullPolicy", "pilotAddress", "concurrency", "logLevel", "drainDuration",
                     "preStopSleepSeconds", "imagePullSecrets", "proxyResources", "initResources"})) {
      return std::nullopt;
    }
    const std::string at = "values.";
    if (!r.String(values, "proxyImage", at, &config.proxy_image) ||
        !r.String(values, "imagePullPolicy", at, &config.image_pull_policy) ||
        !r.String(values, "pilotAddress", at, &config.pilot_address) ||
        !r.Int(values, "concurrency", at, 1, &config.concurrency) ||
        !r.String(values, "logLevel", at, &config.log_level) ||
        !r.String(values, "drainDuration", at, &config.drain_duration) ||
        !r.Int(values, "preStopSleepSeconds", at, 0, &config.pre_stop_sleep_seconds) ||
        !r.Strings(values, "imagePullSecrets", at, &config.image_pull_secrets)) {
      return std::nullopt;
    }
    for (const char* key : {"proxyResources", "initResources"}) {
      if (!values[key]) continue;
      if (!values[key].IsMap()) {
        r.Fail(at + key, "must be a mapping (requests, limits)");
        return std::nullopt;
      }
      (std::string(key) == "proxyResources" ? config.proxy_resources : config.init_resources) = ToJson(values[key]);
    }
  }
  if (const auto policy = root["policy"]) {
    if (!r.OnlyKeys(policy, "policy", {"revision", "excludedNamespaces"}) ||
        !r.String(policy, "revision", "policy.", &config.policy.revision) ||
        !r.Strings(policy, "excludedNamespaces", "policy.", &config.policy.excluded_namespaces)) {
      return std::nullopt;
    }
  }
  return config;
}

}  // namespace cmesh::webhook
