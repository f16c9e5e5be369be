// Mesh-wide settings that shape the compiled output (Istio's MeshConfig equivalents).
#pragma once

#include <cstdint>
#include <string>

#include "cmesh/model/common.h"

namespace cmesh::compiler {

struct MeshOptions {
  enum class OutboundPolicy { kAllowAny, kRegistryOnly };
  std::string domain_suffix = "cluster.local";
  OutboundPolicy outbound_policy = OutboundPolicy::kAllowAny;
  model::Duration connect_timeout{10'000'000'000};  // 10s, Istio's default
  std::string root_namespace = "istio-system";       // config there applies mesh-wide
  uint32_t outbound_port = 15001;
  uint32_t inbound_port = 15006;
  // MeshConfig dnsRefreshRate: how often DNS clusters (ExternalName services) re-resolve when
  // the record's TTL does not say (Istio sets respect_dns_ttl too). Istio's default is 60s.
  model::Duration dns_refresh_rate{60'000'000'000};
};

}  // namespace cmesh::compiler
