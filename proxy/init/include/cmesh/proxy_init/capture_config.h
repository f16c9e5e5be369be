// What cmesh-init is asked to capture: the parsed and validated flags.
#pragma once

#include <cstdint>
#include <vector>

#include "cmesh/proxy_init/cidr.h"
#include "cmesh/proxy_init/port_list.h"

namespace cmesh::proxy_init {

// Ports the sidecar serves itself, never redirected inbound: Envoy's Prometheus stats (15090),
// the health check (15021) and the merged metrics (15020), as Istio's injector always passes them.
inline constexpr std::uint16_t kAlwaysExcludedInboundPorts[] = {15090, 15021, 15020};

enum class Ipv6Mode { kAuto, kOn, kOff };

struct CaptureConfig {
  std::uint16_t outbound_capture_port = 15001;
  std::uint16_t inbound_capture_port = 15006;
  // Istio's HBONE tunnel port: returned first in ISTIO_INBOUND and kept out of the proxy's own
  // loopback redirect, as istio-iptables does.
  std::uint16_t inbound_tunnel_port = 15008;
  std::vector<std::uint32_t> proxy_uids{1337};
  std::vector<std::uint32_t> proxy_gids{1337};

  // Inbound: "*" captures every port but the excluded ones; a list captures only those ports
  // (exclusions then do not matter); an empty list captures nothing inbound.
  PortList inbound_ports{.all = true, .ports = {}};
  // Added to kAlwaysExcludedInboundPorts.
  std::vector<std::uint16_t> exclude_inbound_ports;

  // Outbound: ports always redirected (whatever the destination), and ports never redirected.
  std::vector<std::uint16_t> include_outbound_ports;
  std::vector<std::uint16_t> exclude_outbound_ports;
  // Destinations redirected ("*" = all), and destinations never redirected (checked first).
  bool include_all_outbound_ranges = true;
  std::vector<Cidr> include_outbound_ranges;
  std::vector<Cidr> exclude_outbound_ranges;

  Ipv6Mode ipv6 = Ipv6Mode::kAuto;
};

// The inbound ports that RETURN in ISTIO_INBOUND when every port is captured: the always
// excluded ones, then the flag's, each once.
std::vector<std::uint16_t> EffectiveExcludedInboundPorts(const CaptureConfig& config);

}  // namespace cmesh::proxy_init
