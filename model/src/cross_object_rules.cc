// Validation that looks at the whole config: which hostless VirtualServices are delegates.
#include <set>
#include <string>
#include <utility>

#include "cmesh/model/parser.h"

namespace cmesh::model {

void CheckCrossObjectRules(ParseResult* result) {
  auto& services = result->config.virtual_services;
  std::set<std::pair<std::string, std::string>> delegates;  // (namespace, name) some root refers to
  for (const auto& vs : services) {
    for (const auto& rule : vs.http) {
      if (!rule.delegate) continue;
      delegates.emplace(rule.delegate->ns.empty() ? vs.meta.ns : rule.delegate->ns, rule.delegate->name);
    }
  }
  std::erase_if(services, [&](const VirtualService& vs) {
    if (!vs.hosts.empty() || delegates.count({vs.meta.ns, vs.meta.name})) return false;
    Diagnostic d;
    d.severity = Severity::kError;
    d.object = {vs.origin.file, vs.origin.spec_line, "VirtualService", vs.meta.ns, vs.meta.name};
    d.field = "spec.hosts";
    d.message = "Required value: at least one host is required; a VirtualService without hosts is "
                "valid only as a delegate, and no VirtualService in the config delegates to " +
                vs.meta.ns + "/" + vs.meta.name;
    result->diagnostics.push_back(std::move(d));
    return true;
  });
}

}  // namespace cmesh::model
