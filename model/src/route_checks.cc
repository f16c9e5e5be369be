// Checks shared by the VirtualService validators.
#include "route_checks.h"

namespace cmesh::model::internal {

void CheckPercent(Problems& p, const std::string& field, const std::optional<double>& v) {
  if (v && (*v < 0 || *v > 100)) {
    p.Invalid(field, internal::FormatNumber(*v) + ": percentage must be between 0 and 100");
  }
}

void CheckDuration(Problems& p, const std::string& field, const std::optional<Duration>& d) {
  if (!d) return;
  if (auto e = DurationError(*d)) p.Invalid(field, *e);
}

void CheckPort(Problems& p, const std::string& field, uint32_t port) {
  if (port < 1 || port > 65535) {
    p.Invalid(field, std::to_string(port) + ": port number must be between 1 and 65535");
  }
}

void CheckDestination(Problems& p, const std::string& field, const Destination& d) {
  if (d.host.empty()) {
    p.Required(field + ".host", "destination host is required");
  } else if (d.host == "*") {
    p.Invalid(field + ".host", "\"*\": a destination host cannot be a wildcard \"*\"");
  } else if (auto e = internal::WildcardDomainError(d.host)) {
    p.Invalid(field + ".host", *e);
  }
  if (!d.subset.empty() && !internal::IsDns1123Label(d.subset)) {
    p.Invalid(field + ".subset", Quote(d.subset) + ": subset name must be a DNS-1123 label");
  }
  if (d.port) CheckPort(p, field + ".port.number", *d.port);
}

void CheckGatewayName(Problems& p, const std::string& field, const std::string& gw) {
  if (gw == "mesh") return;
  auto slash = gw.find('/');
  bool ok = false;
  if (slash == std::string::npos) {
    ok = internal::IsDns1123Subdomain(gw);
  } else {
    std::string_view ns = std::string_view(gw).substr(0, slash);
    std::string_view name = std::string_view(gw).substr(slash + 1);
    ok = internal::IsDns1123Label(ns) && internal::IsDns1123Label(name);
  }
  if (!ok) p.Invalid(field, Quote(gw) + ": not a valid gateway name ([namespace/]name)");
}

}  // namespace cmesh::model::internal
