#include "cmesh/proxy_init/cidr.h"

#include <arpa/inet.h>

#include <charconv>

namespace cmesh::proxy_init {

std::string Cidr::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == IpFamily::kV4 ? AF_INET : AF_INET6, address.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix_length);
}

bool Cidr::Contains(const Cidr& host) const {
  if (host.family != family || host.prefix_length < prefix_length) return false;
  int bits = prefix_length;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((address[i] & mask) != (host.address[i] & mask)) return false;
  }
  return true;
}

std::variant<Cidr, std::string> ParseCidr(std::string_view text) {
  Cidr cidr;
  std::string_view address_text = text;
  std::string_view prefix_text;
  bool has_prefix = false;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    address_text = text.substr(0, slash);
    prefix_text = text.substr(slash + 1);
    has_prefix = true;
  }
  std::string address(address_text);
  if (inet_pton(AF_INET, address.c_str(), cidr.address.data()) == 1) {
    cidr.family = IpFamily::kV4;
  } else if (inet_pton(AF_INET6, address.c_str(), cidr.address.data()) == 1) {
    cidr.family = IpFamily::kV6;
  } else {
    return "\"" + address + "\" is not an IPv4 or IPv6 address";
  }
  const int max_length = cidr.family == IpFamily::kV4 ? 32 : 128;
  cidr.prefix_length = max_length;
  if (has_prefix) {
    int length = -1;
    auto [end, ec] = std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(),
                                     length);
    if (prefix_text.empty() || ec != std::errc() || end != prefix_text.data() + prefix_text.size() ||
        length < 0 || length > max_length) {
      return "prefix length \"" + std::string(prefix_text) + "\" is not between 0 and " +
             std::to_string(max_length);
    }
    cidr.prefix_length = length;
  }
  // Clear the host bits.
  const int bytes = max_length / 8;
  for (int i = 0; i < bytes; ++i) {
    int keep = cidr.prefix_length - i * 8;
    if (keep >= 8) continue;
    cidr.address[i] &= keep <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - keep));
  }
  return cidr;
}

}  // namespace cmesh::proxy_init
