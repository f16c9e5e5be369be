// An IPv4 or IPv6 network in CIDR notation, as the outbound IP range flags take it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace cmesh::proxy_init {

enum class IpFamily { kV4, kV6 };

struct Cidr {
  IpFamily family = IpFamily::kV4;
  std::array<std::uint8_t, 16> address{};  // network byte order; the first 4 bytes for IPv4
  int prefix_length = 0;

  // Canonical text with the host bits cleared ("10.0.0.0/8"), which is also how iptables-save
  // prints it, so rules we generate compare equal to what the kernel reports.
  std::string ToString() const;
  bool Contains(const Cidr& host) const;
  bool operator==(const Cidr&) const = default;
};

// "10.0.0.0/8", "fd00::/8", or a bare address (a host network: /32 or /128). Host bits are
// cleared, as Go's net.ParseCIDR (which istio-iptables uses) does. The error says what is wrong.
std::variant<Cidr, std::string> ParseCidr(std::string_view text);

}  // namespace cmesh::proxy_init
