// Checks shared by the VirtualService validators (HTTP, TCP and the top level): destinations,
// weights, ports, percentages, durations and gateway names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cmesh/model/virtual_service.h"
#include "validation_checks.h"

namespace cmesh::model::internal {

inline std::string Idx(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

void CheckPercent(Problems& p, const std::string& field, const std::optional<double>& v);
void CheckDuration(Problems& p, const std::string& field, const std::optional<Duration>& d);
void CheckPort(Problems& p, const std::string& field, uint32_t port);
void CheckDestination(Problems& p, const std::string& field, const Destination& d);
// "mesh", "name", a legacy FQDN "name.namespace...", or "namespace/name".
void CheckGatewayName(Problems& p, const std::string& field, const std::string& gw);
// An HTTP route: matches, action, rewrite/redirect conflicts, fault, retries, mirrors, CORS,
// header operations. `applies_to_gateway`: the VirtualService is bound to gateways only.
void CheckHttpRoute(Problems& p, const std::string& field, const HTTPRoute& h,
                    bool applies_to_gateway);

template <typename Dest>
void CheckWeights(Problems& p, const std::string& field, const std::vector<Dest>& route) {
  int64_t total = 0;
  for (size_t i = 0; i < route.size(); ++i) {
    const auto& w = route[i].weight;
    if (w && *w < 0) {
      p.Invalid(Idx(field, i) + ".weight", std::to_string(*w) + ": weight must not be negative");
    }
    if (w && *w > 0) total += *w;
  }
  // Weights need not add up to 100 (Envoy normalizes), but several destinations that all weigh
  // nothing leave nowhere to send traffic.
  if (route.size() > 1 && total == 0) {
    p.Invalid(field, "total weight of the destinations must be greater than 0");
  }
}

}  // namespace cmesh::model::internal
