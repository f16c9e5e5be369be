// Comma-separated port lists, the format of the traffic.sidecar.istio.io/*Ports annotations.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cmesh::proxy_init {

// A list of ports, or "*" (every port) where the flag allows it.
struct PortList {
  bool all = false;
  std::vector<std::uint16_t> ports;
  bool operator==(const PortList&) const = default;
};

// One port, 1-65535, decimal digits only.
std::variant<std::uint16_t, std::string> ParsePort(std::string_view text);

// "" (no port), "80,443" (spaces around items allowed) or, when allow_all, "*". Repeated ports
// are kept once. The error names the offending item.
std::variant<PortList, std::string> ParsePortList(std::string_view text, bool allow_all);

}  // namespace cmesh::proxy_init
