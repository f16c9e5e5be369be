// Which listener and filter chain of a sidecar take an outbound connection.
#pragma once

#include <string>
#include <vector>

#include "cmesh/simulator/request.h"
#include "envoy/config/listener/v3/listener.pb.h"

namespace cmesh::simulator {

struct ListenerMatch {
  const envoy::config::listener::v3::Listener* listener = nullptr;
  const envoy::config::listener::v3::FilterChain* filter_chain = nullptr;  // null: none matched
  std::vector<std::string> notes;
};

// iptables sends every outbound connection to the listener with use_original_dst (Istio's
// virtualOutbound); Envoy then hands it to the listener bound to the original destination
// IP:port, else to the wildcard 0.0.0.0:port listener, else keeps it on the original-destination
// listener. Within the listener, filter chains are chosen as Envoy does: destination port, then
// the longest destination prefix range, then server names, transport protocol and application
// protocols, a chain naming the criterion beating one that leaves it open; the default filter
// chain when none fits. A plain-text request presents transport "raw_buffer" and application
// protocol "http/1.1" (what http_inspector detects); https presents "tls" with SNI = host.
ListenerMatch SelectListener(const std::vector<envoy::config::listener::v3::Listener>& listeners,
                             const Request& request);

}  // namespace cmesh::simulator
