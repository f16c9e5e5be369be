// `cmeshctl simulate -o json`: a Decision as a JSON object.
#pragma once

#include <optional>
#include <string>

#include "cmesh/simulator/decision.h"
#include "cmesh/simulator/request.h"

namespace cmesh::cli {

// `rule` is the VirtualService rule description ("http[0].match[1]"), empty when unknown.
std::string DecisionToJson(const simulator::Request& request, const simulator::Decision& decision,
                           const std::string& rule);

}  // namespace cmesh::cli
