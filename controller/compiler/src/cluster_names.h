// Istio's cluster names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cmesh::compiler {

inline constexpr char kPassthroughCluster[] = "PassthroughCluster";
inline constexpr char kBlackHoleCluster[] = "BlackHoleCluster";
inline constexpr char kInboundPassthroughCluster[] = "InboundPassthroughCluster";

// outbound|9080|v1|reviews.default.svc.cluster.local (empty subset for the default cluster).
inline std::string OutboundClusterName(uint32_t port, std::string_view subset, std::string_view fqdn) {
  std::string out = "outbound|";
  out.append(std::to_string(port)).append("|").append(subset).append("|").append(fqdn);
  return out;
}

// inbound|9080||
inline std::string InboundClusterName(uint32_t target_port) {
  return "inbound|" + std::to_string(target_port) + "||";
}

}  // namespace cmesh::compiler
