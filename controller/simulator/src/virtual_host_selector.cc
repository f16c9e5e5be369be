#include "virtual_host_selector.h"

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

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::string_view StripPort(std::string_view authority) {
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return authority;
  if (!authority.empty() && authority[0] == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos || colon < close) return authority;
  } else if (authority.find(':') != colon) {
    return authority;  // a bare IPv6 address, no port
  }
  if (!AllDigits(authority.substr(colon + 1))) return authority;
  return authority.substr(0, colon);
}

VirtualHostMatch SelectVirtualHost(const envoy::config::route::v3::RouteConfiguration& config,
                                   std::string_view authority) {
  std::string host = Lower(config.ignore_port_in_host_matching() ? StripPort(authority) : authority);
  VirtualHostMatch exact, suffix, prefix, any;
  size_t suffix_len = 0, prefix_len = 0;
  // Envoy rejects a configuration with a domain in two virtual hosts; taking the first keeps the
  // simulator total, and the compiler's own tests check uniqueness.
  for (const auto& vh : config.virtual_hosts()) {
    for (const auto& raw_domain : vh.domains()) {
      std::string domain = Lower(raw_domain);
      if (domain == "*") {
        if (!any.virtual_host) any = {&vh, raw_domain};
      } else if (domain.size() > 1 && domain.front() == '*') {
        std::string_view tail = std::string_view(domain).substr(1);
        if (host.size() > tail.size() && host.compare(host.size() - tail.size(), tail.size(), tail) == 0 &&
            tail.size() > suffix_len) {
          suffix = {&vh, raw_domain};
          suffix_len = tail.size();
        }
      } else if (domain.size() > 1 && domain.back() == '*') {
        std::string_view head = std::string_view(domain).substr(0, domain.size() - 1);
        if (host.size() > head.size() && host.compare(0, head.size(), head) == 0 &&
            head.size() > prefix_len) {
          prefix = {&vh, raw_domain};
          prefix_len = head.size();
        }
      } else if (domain == host) {
        if (!exact.virtual_host) exact = {&vh, raw_domain};
      }
    }
  }
  if (exact.virtual_host) return exact;
  if (suffix.virtual_host) return suffix;
  if (prefix.virtual_host) return prefix;
  return any;
}

}  // namespace cmesh::simulator
