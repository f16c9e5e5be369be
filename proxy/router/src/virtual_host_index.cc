#include "virtual_host_index.h"

#include <array>

#include "string_matcher.h"

namespace cmesh::router {
namespace {

// Envoy's HeaderUtility::getPortStart: the last ':' unless it is inside an IPv6 literal "[...]".
std::string_view StripPort(std::string_view host) {
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  size_t v6_end = host.rfind(']');
  if (v6_end != std::string_view::npos && v6_end > colon) return host;
  return host.substr(0, colon);
}

}  // namespace

bool VirtualHostIndex::Add(const std::string& raw, int vhost, const std::string& where,
                           std::string* error) {
  if (raw.empty()) {
    *error = where + ": an empty domain";
    return false;
  }
  const std::string domain = ToLower(raw);
  bool inserted = false;
  if (domain == "*") {
    inserted = any_ < 0;
    if (inserted) any_ = vhost;
  } else if (domain.front() == '*') {
    std::string suffix = domain.substr(1);
    const size_t n = suffix.size();
    inserted = suffixes_[n].emplace(std::move(suffix), vhost).second;
  } else if (domain.back() == '*') {
    std::string prefix = domain.substr(0, domain.size() - 1);
    const size_t n = prefix.size();
    inserted = prefixes_[n].emplace(std::move(prefix), vhost).second;
  } else {
    inserted = exact_.emplace(domain, vhost).second;
  }
  if (!inserted) {
    *error = where + ": domain \"" + raw + "\" is listed more than once (domains must be unique)";
    return false;
  }
  return true;
}

int VirtualHostIndex::Find(std::string_view authority, bool ignore_port) const {
  std::string_view host = ignore_port ? StripPort(authority) : authority;
  // Lower-case into a stack buffer: host names are short, so no allocation per request.
  std::array<char, 320> buffer;
  std::string heap;
  char* out = buffer.data();
  if (host.size() > buffer.size()) {
    heap.resize(host.size());
    out = heap.data();
  }
  for (size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return FindLower(std::string_view(out, host.size()));
}

int VirtualHostIndex::FindLower(std::string_view host) const {
  if (auto it = exact_.find(host); it != exact_.end()) return it->second;
  for (const auto& [length, map] : suffixes_) {
    if (length >= host.size()) continue;  // the '*' must stand for at least one character
    if (auto it = map.find(host.substr(host.size() - length)); it != map.end()) return it->second;
  }
  for (const auto& [length, map] : prefixes_) {
    if (length >= host.size()) continue;
    if (auto it = map.find(host.substr(0, length)); it != map.end()) return it->second;
  }
  return any_;
}

}  // namespace cmesh::router
