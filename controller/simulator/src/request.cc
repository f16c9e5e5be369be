#include "cmesh/simulator/request.h"

#include <algorithm>
#include <cctype>

namespace cmesh::simulator {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

uint32_t DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

}  // namespace

std::string Request::Authority() const {
  for (const auto& [name, value] : headers) {
    if (Lower(name) == "host" || name == ":authority") return value;
  }
  if (port == DefaultPort(scheme)) return host;
  return host + ":" + std::to_string(port);
}

std::optional<std::string> Request::Header(std::string_view lower_name) const {
  if (lower_name == ":method") return method;
  if (lower_name == ":authority" || lower_name == "host") return Authority();
  if (lower_name == ":scheme") return scheme;
  if (lower_name == ":path") return path;
  std::optional<std::string> out;
  for (const auto& [name, value] : headers) {
    if (Lower(name) != lower_name) continue;
    out = out ? *out + "," + value : value;
  }
  return out;
}

std::optional<Request> ParseUrl(std::string_view url, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Request> {
    if (error) *error = "invalid URL \"" + std::string(url) + "\": " + why;
    return std::nullopt;
  };
  Request r;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return fail("expected scheme://host[:port]/path");
  r.scheme = Lower(url.substr(0, sep));
  if (r.scheme != "http" && r.scheme != "https") return fail("scheme must be http or https");
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (slash == std::string_view::npos) {
    r.path = "/";
  } else {
    r.path = std::string(rest.substr(slash));
    if (r.path.front() == '?') r.path = "/" + r.path;
  }
  if (authority.empty()) return fail("missing host");
  if (authority.find('@') != std::string_view::npos) return fail("user info is not supported");
  r.port = DefaultPort(r.scheme);
  std::string_view host = authority;
  size_t colon = authority.rfind(':');
  bool bracketed = authority.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || colon > authority.find(']'))) {
    std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return fail("port must be a number");
    }
    unsigned long n = std::stoul(std::string(port));
    if (n == 0 || n > 65535) return fail("port must be 1-65535");
    r.port = static_cast<uint32_t>(n);
    host = authority.substr(0, colon);
  }
  if (bracketed) {
    if (host.size() < 2 || host.back() != ']') return fail("malformed IPv6 address");
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return fail("missing host");
  r.host = Lower(host);
  return r;
}

}  // namespace cmesh::simulator
