// Prints compiled resources as one JSON object {"listeners":[...],"routes":[...],"clusters":[...],
// "endpoints":[...]}, each element the Envoy resource in protobuf's JSON mapping (lowerCamelCase
// fields, Any with "@type"), the shape `istioctl proxy-config ... -o json` shows; or the same as YAML.
#pragma once

#include <optional>
#include <string>

#include "cmesh/compiler/xds_resources.h"

namespace cmesh::cli {

// nullopt (and *error) if a resource cannot be printed (e.g. an Any of an unknown type).
std::optional<std::string> ResourcesToJson(const compiler::XdsResources& resources, std::string* error);
std::optional<std::string> ResourcesToYaml(const compiler::XdsResources& resources, std::string* error);

}  // namespace cmesh::cli
