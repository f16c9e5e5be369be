#include "host_names.h"

#include <algorithm>

namespace cmesh::compiler {

std::string ServiceFqdn(std::string_view name, std::string_view ns, std::string_view domain_suffix) {
  std::string out;
  out.reserve(name.size() + ns.size() + domain_suffix.size() + 6);
  out.append(name).append(".").append(ns).append(".svc.").append(domain_suffix);
  return out;
}

std::string ResolveHost(std::string_view host, std::string_view ns, std::string_view domain_suffix) {
  if (IsWildcard(host)) return std::string(host);
  size_t dots = static_cast<size_t>(std::count(host.begin(), host.end(), '.'));
  if (dots == 0) return ServiceFqdn(host, ns, domain_suffix);
  if (dots == 1) {
    // "name.namespace", as Kubernetes DNS search paths would complete it.
    size_t dot = host.find('.');
    return ServiceFqdn(host.substr(0, dot), host.substr(dot + 1), domain_suffix);
  }
  std::string out(host);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

bool HostMatches(std::string_view pattern, std::string_view fqdn) {
  if (pattern == "*") return true;
  if (IsWildcard(pattern)) {
    std::string_view suffix = pattern.substr(1);  // ".default.svc.cluster.local"
    return fqdn.size() > suffix.size() && fqdn.substr(fqdn.size() - suffix.size()) == suffix;
  }
  return pattern == fqdn;
}

bool VisibleTo(const std::vector<std::string>& export_to, std::string_view object_ns,
               std::string_view proxy_ns) {
  if (export_to.empty()) return true;
  for (const auto& e : export_to) {
    if (e == "*") return true;
    if (e == "." && object_ns == proxy_ns) return true;
    if (e == proxy_ns) return true;
  }
  return false;
}

bool LabelsContain(const model::Labels& labels, const model::Labels& selector) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace cmesh::compiler
