// Maps a matched Envoy route back to the VirtualService rule (http[i], match[j]) it came from,
// for `cmeshctl simulate` explanations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cmesh/compiler/proxy_node.h"
#include "cmesh/model/virtual_service.h"

namespace cmesh::cli {

struct RuleLocation {
  size_t rule_index = 0;
  std::optional<size_t> match_index;  // nullopt for a rule without match (catch-all)
};

// `ordinal` is how many routes generated from `vs` precede the matched one in its virtual host.
// Istio emits one route per match entry that applies to the proxy (port, sourceLabels,
// sourceNamespace, gateways), skips delegate rules and rules without a positive-weight
// destination, and stops after a catch-all. The guess is returned only when the route name agrees
// with the rule's ("RULE" or "RULE.MATCH"), so a wrong guess is never printed.
std::optional<RuleLocation> LocateRule(const model::VirtualService& vs, const compiler::ProxyNode& proxy,
                                       uint32_t listener_port, size_t ordinal, const std::string& route_name);

}  // namespace cmesh::cli
