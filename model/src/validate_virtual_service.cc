// VirtualService validation with Istio's semantics (pilot's ValidateVirtualService, as documented
// for istioctl validate). Each problem carries the field path and a Kubernetes-style reason.
#include <set>

#include "cmesh/model/validation.h"
#include "route_checks.h"

namespace cmesh::model {
namespace {

using internal::CheckDestination;
using internal::CheckPort;
using internal::Idx;
using internal::Problems;
using internal::Quote;

void CheckTcpRoute(Problems& p, const std::string& field, const TCPRoute& t) {
  for (size_t i = 0; i < t.match.size(); ++i) {
    const L4MatchAttributes& m = t.match[i];
    std::string f = Idx(field + ".match", i);
    for (size_t j = 0; j < m.destination_subnets.size(); ++j) {
      if (!internal::IsIpOrCidr(m.destination_subnets[j])) {
        p.Invalid(Idx(f + ".destinationSubnets", j),
                  Quote(m.destination_subnets[j]) + ": not an IP address or CIDR block");
      }
    }
    if (m.port) CheckPort(p, f + ".port", *m.port);
    internal::ValidateLabels(p, f + ".sourceLabels", m.source_labels);
  }
  if (t.route.empty()) p.Required(field + ".route", "a TCP route needs at least one destination");
  for (size_t i = 0; i < t.route.size(); ++i) {
    CheckDestination(p, Idx(field + ".route", i) + ".destination", t.route[i].destination);
  }
  internal::CheckWeights(p, field + ".route", t.route);
}

}  // namespace

std::vector<Diagnostic> Validate(const VirtualService& vs) {
  Problems p(ObjectRef{vs.origin.file, vs.origin.line, "VirtualService", vs.meta.ns, vs.meta.name});
  bool applies_to_mesh = vs.gateways.empty();
  for (size_t i = 0; i < vs.gateways.size(); ++i) {
    if (vs.gateways[i] == "mesh") applies_to_mesh = true;
    internal::CheckGatewayName(p, Idx("spec.gateways", i), vs.gateways[i]);
  }
  // Istio: a VirtualService without hosts is a delegate, used only through a root's
  // http[].delegate. Only http routes make sense there, and a delegate cannot delegate again.
  if (vs.hosts.empty()) {
    if (!vs.gateways.empty()) {
      p.Invalid("spec.gateways", "a delegate virtual service (one without hosts) must have no gateways");
    }
    if (!vs.tcp.empty()) p.Invalid("spec.tcp", "a delegate virtual service (one without hosts) must have no tcp routes");
    if (vs.tls_route_count > 0) {
      p.Invalid("spec.tls", "a delegate virtual service (one without hosts) must have no tls routes");
    }
    for (size_t i = 0; i < vs.http.size(); ++i) {
      if (vs.http[i].delegate) {
        p.Invalid(Idx("spec.http", i) + ".delegate", "a delegate virtual service cannot delegate again");
      }
    }
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < vs.hosts.size(); ++i) {
    const std::string& host = vs.hosts[i];
    std::string f = Idx("spec.hosts", i);
    if (auto e = internal::WildcardDomainError(host); e && !internal::IsIpAddress(host)) {
      p.Invalid(f, *e);
    } else if (applies_to_mesh && host == "*") {
      p.Invalid(f, "\"*\": the wildcard host is not allowed for virtual services bound to the mesh");
    }
    if (!seen.insert(host).second) p.Duplicate(f, Quote(host) + ": duplicate host");
  }
  if (vs.http.empty() && vs.tcp.empty() && vs.tls_route_count == 0) {
    p.Required("spec", "http, tcp or tls routes must be provided");
  }
  for (size_t i = 0; i < vs.http.size(); ++i) {
    internal::CheckHttpRoute(p, Idx("spec.http", i), vs.http[i], !applies_to_mesh);
  }
  // First match wins: a rule after one without matches can never be reached.
  for (size_t i = 0; i + 1 < vs.http.size(); ++i) {
    if (!vs.http[i].match.empty()) continue;
    for (size_t j = i + 1; j < vs.http.size(); ++j) {
      p.Warn(Idx("spec.http", j), "rule not used: spec.http[" + std::to_string(i) +
                                      "] has no match and catches every request first");
    }
    break;
  }
  for (size_t i = 0; i < vs.tcp.size(); ++i) CheckTcpRoute(p, Idx("spec.tcp", i), vs.tcp[i]);
  internal::ValidateExportTo(p, "spec.exportTo", vs.export_to);
  return p.Take();
}

}  // namespace cmesh::model