// Envoy's virtual host selection by :authority.
#pragma once

#include <string>
#include <string_view>

#include "envoy/config/route/v3/route.pb.h"

namespace cmesh::simulator {

struct VirtualHostMatch {
  const envoy::config::route::v3::VirtualHost* virtual_host = nullptr;
  std::string domain;  // the domain entry that matched
};

// Envoy's order: an exact domain, then the longest suffix wildcard ("*.foo"), then the longest
// prefix wildcard ("foo*"), then "*". Host names compare case-insensitively; a wildcard needs at
// least one character in place of its "*". The port is stripped from `authority` first when the
// configuration sets ignore_port_in_host_matching (Istio's sidecar configs do), so "reviews:9080"
// matches the domain "reviews".
VirtualHostMatch SelectVirtualHost(const envoy::config::route::v3::RouteConfiguration& config,
                                   std::string_view authority);

// The host with a trailing ":port" removed (IPv6 literals in brackets are kept whole).
std::string_view StripPort(std::string_view authority);

}  // namespace cmesh::simulator
