#include "rule_locator.h"

#include <algorithm>

namespace cmesh::cli {
namespace {

bool Applies(const model::HTTPMatchRequest& m, const compiler::ProxyNode& proxy, uint32_t port) {
  if (m.port && *m.port != port) return false;
  for (const auto& [k, v] : m.source_labels) {
    auto it = proxy.labels.find(k);
    if (it == proxy.labels.end() || it->second != v) return false;
  }
  if (!m.source_namespace.empty() && m.source_namespace != proxy.ns) return false;
  if (!m.gateways.empty() && std::find(m.gateways.begin(), m.gateways.end(), "mesh") == m.gateways.end()) {
    return false;
  }
  return true;
}

bool HasTarget(const model::HTTPRoute& rule) {
  if (rule.redirect || rule.direct_response) return true;
  for (const auto& d : rule.route) {
    if (d.weight.value_or(rule.route.size() == 1 ? 100 : 0) > 0) return true;
  }
  return false;
}

bool IsCatchAll(const model::HTTPMatchRequest* m) {
  if (m == nullptr) return true;
  const bool root = !m->uri || m->uri->kind == model::StringMatch::Kind::kAny ||
                    (m->uri->kind == model::StringMatch::Kind::kPrefix && m->uri->value == "/");
  return root && !m->ignore_uri_case && !m->scheme && !m->method && !m->authority && m->headers.empty() &&
         m->query_params.empty() && m->without_headers.empty();
}

}  // namespace

std::optional<RuleLocation> LocateRule(const model::VirtualService& vs, const compiler::ProxyNode& proxy,
                                       uint32_t listener_port, size_t ordinal, const std::string& route_name) {
  size_t seen = 0;
  for (size_t i = 0; i < vs.http.size(); ++i) {
    const model::HTTPRoute& rule = vs.http[i];
    if (rule.delegate || !HasTarget(rule)) continue;
    std::vector<std::optional<size_t>> matches;
    if (rule.match.empty()) {
      matches.push_back(std::nullopt);
    } else {
      for (size_t j = 0; j < rule.match.size(); ++j) {
        if (Applies(rule.match[j], proxy, listener_port)) matches.push_back(j);
      }
    }
    for (const auto& j : matches) {
      const model::HTTPMatchRequest* m = j ? &rule.match[*j] : nullptr;
      if (seen == ordinal) {
        std::string expected = rule.name;
        if (m && !m->name.empty()) expected += "." + m->name;
        if (expected != route_name) return std::nullopt;
        return RuleLocation{i, j};
      }
      ++seen;
      if (IsCatchAll(m)) return std::nullopt;  // later rules are unreachable
    }
  }
  return std::nullopt;
}

}  // namespace cmesh::cli
