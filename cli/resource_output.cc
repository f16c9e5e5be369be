#include "resource_output.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace cmesh::cli {
namespace {

using Json = nlohmann::ordered_json;  // keeps protobuf's field order

template <typename T>
bool AppendAll(const std::vector<compiler::Versioned<T>>& items, Json& array, std::string* error) {
  array = Json::array();
  for (const auto& item : items) {
    std::string text;
    auto status = google::protobuf::util::MessageToJsonString(item.resource, &text);
    if (!status.ok()) {
      *error = "cannot print " + item.resource.GetDescriptor()->name() + ": " + status.ToString();
      return false;
    }
    try {
      array.push_back(Json::parse(text));
    } catch (const nlohmann::json::exception& e) {
      *error = std::string("internal error re-reading JSON: ") + e.what();
      return false;
    }
  }
  return true;
}

std::optional<Json> ToJson(const compiler::XdsResources& r, std::string* error) {
  Json out = Json::object();
  if (!AppendAll(r.listeners, out["listeners"], error) || !AppendAll(r.routes, out["routes"], error) ||
      !AppendAll(r.clusters, out["clusters"], error) || !AppendAll(r.endpoints, out["endpoints"], error)) {
    return std::nullopt;
  }
  return out;
}

// A string that YAML would read back as another type (number, bool, null) must be quoted.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  static const char* const kSpecial[] = {"true", "false", "yes", "no", "on", "off", "null", "~",
                                         "True", "False", "Yes", "No", "On", "Off", "Null", "TRUE",
                                         "FALSE", "YES", "NO", "ON", "OFF", "NULL", "y", "n", "Y", "N"};
  for (const char* k : kSpecial) {
    if (s == k) return true;
  }
  try {
    size_t used = 0;
    (void)std::stod(s, &used);
    if (used == s.size()) return true;
  } catch (...) {
  }
  return false;
}

void Emit(const Json& j, YAML::Emitter& out) {
  switch (j.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        Emit(it.value(), out);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& e : j) Emit(e, out);
      out << YAML::EndSeq;
      break;
    case Json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case Json::value_t::boolean:
      out << j.get<bool>();
      break;
    case Json::value_t::null:
      out << YAML::Null;
      break;
    default:  // numbers keep their JSON spelling
      out << j.dump();
  }
}

}  // namespace

std::optional<std::string> ResourcesToJson(const compiler::XdsResources& resources, std::string* error) {
  auto json = ToJson(resources, error);
  if (!json) return std::nullopt;
  return json->dump(2) + "\n";
}

std::optional<std::string> ResourcesToYaml(const compiler::XdsResources& resources, std::string* error) {
  auto json = ToJson(resources, error);
  if (!json) return std::nullopt;
  YAML::Emitter out;
  Emit(*json, out);
  if (!out.good()) {
    *error = "YAML emitter: " + out.GetLastError();
    return std::nullopt;
  }
  return std::string(out.c_str()) + "\n";
}

}  // namespace cmesh::cli
