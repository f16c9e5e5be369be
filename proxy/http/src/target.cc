#include "cmesh/http1/target.h"

#include <charconv>

namespace cmesh::http1 {

bool SplitAuthority(std::string_view authority, std::uint16_t default_port, std::string_view* host,
                    std::uint16_t* port) {
  std::size_t colon = std::string_view::npos;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      colon = close + 1;
    }
  } else {
    colon = authority.rfind(':');
  }
  if (colon == std::string_view::npos) {
    *host = authority;
    *port = default_port;
    return !authority.empty();
  }
  const std::string_view digits = authority.substr(colon + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || value == 0 || value > 65535) {
    return false;
  }
  *host = authority.substr(0, colon);
  *port = static_cast<std::uint16_t>(value);
  return !host->empty();
}

std::optional<RoutingTarget> ReadRoutingTarget(const RequestHead& head, std::string_view* why) {
  RoutingTarget t;
  std::string_view target = head.target;
  std::uint16_t default_port = 80;
  if (!target.empty() && target.front() == '/') {
    t.path = target;
    auto host = head.Find("host");
    if (!host || host->empty()) {
      *why = "no Host header";
      return std::nullopt;
    }
    t.authority = *host;
  } else if (target == "*" || EqualsIgnoreCase(head.method, "CONNECT")) {
    *why = "asterisk-form and CONNECT requests are not proxied";
    return std::nullopt;
  } else {
    const std::size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) {
      *why = "request target is neither a path nor an absolute URI";
      return std::nullopt;
    }
    const std::string_view scheme = target.substr(0, scheme_end);
    if (EqualsIgnoreCase(scheme, "https")) {
      default_port = 443;
    } else if (!EqualsIgnoreCase(scheme, "http")) {
      *why = "unsupported URI scheme";
      return std::nullopt;
    }
    std::string_view rest = target.substr(scheme_end + 3);
    const std::size_t path_start = rest.find_first_of("/?");
    t.authority = rest.substr(0, path_start);
    if (t.authority.find('@') != std::string_view::npos) {
      *why = "user information in the request URI";
      return std::nullopt;
    }
    t.path = path_start == std::string_view::npos ? std::string_view("/") : rest.substr(path_start);
    if (!t.path.empty() && t.path.front() == '?') {
      *why = "absolute URI with a query but no path";  // "/"+query would need a copy
      return std::nullopt;
    }
    t.absolute_form = true;
  }
  if (!SplitAuthority(t.authority, default_port, &t.host, &t.port)) {
    *why = "malformed authority";
    return std::nullopt;
  }
  return t;
}

}  // namespace cmesh::http1
