#include "request_fields.h"

namespace cmesh::proxy_core {

const std::string* FindHeader(const std::vector<http1::OwnedHeader>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (http1::EqualsIgnoreCase(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::string* FindHeaderMutable(std::vector<http1::OwnedHeader>& headers, std::string_view name) {
  for (auto& h : headers) {
    if (http1::EqualsIgnoreCase(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::optional<std::string> QueryParameter(std::string_view path, std::string_view name) {
  const std::size_t q = path.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string> Cookie(const std::vector<http1::OwnedHeader>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (!http1::EqualsIgnoreCase(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const std::size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const std::size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        std::string_view value = pair.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        return std::string(value);
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

std::string NewRequestId(event::Random& random) {
  const std::uint64_t a = random.Next(), b = random.Next();
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(a >> (8 * i));
    bytes[8 + i] = static_cast<unsigned char>(b >> (8 * i));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  // 8-4-4-4-12 hex digits, written directly (snprintf here cost 3 % of the proxy's CPU).
  static constexpr char kHex[] = "0123456789abcdef";
  char text[37];
  char* out = text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
    *out++ = kHex[bytes[i] >> 4];
    *out++ = kHex[bytes[i] & 0x0f];
  }
  *out = '\0';
  return text;
}

}  // namespace cmesh::proxy_core
