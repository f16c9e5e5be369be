// What a worker knows about a connection when it hands it to a handler (HTTP/1.1, HTTP/2 or TCP):
// who connected, where the client meant to go, and which filter chain of the configuration
// matched, so the handler routes with the right table.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cmesh/event/socket.h"
#include "cmesh/router/route_table.h"

namespace cmesh::proxy_core {

struct DownstreamContext {
  event::Endpoint peer;
  // SO_ORIGINAL_DST: where the client dialled before iptables redirected it; for a connection
  // that was not redirected, the listener's own address.
  event::Endpoint original_destination;
  bool redirected = false;
  // Accepted on the inbound listener (15006): traffic to this pod's app.
  bool inbound = false;
  // The filter chain that matched (for logs and stats), "" for an explicit-proxy connection.
  std::string chain;
  // Where the HTTP routes come from: an RDS name, looked up in the snapshot of each request, or
  // a route configuration inline in the chain (kept for the connection's life, as Envoy keeps a
  // connection on the filter chain it started with). Both empty: explicit-proxy routing by the
  // request's authority and port.
  std::string rds;
  std::shared_ptr<const router::RouteTable> inline_routes;
  // The connection manager's idle timeout (no request in flight for that long closes it); zero
  // means none.
  std::chrono::milliseconds idle_timeout{0};
  // The HTTP/1.1 upgrades the chain allows (upgrade_configs, lower case): such a request goes
  // upstream with its Upgrade header, and a 101 answer turns the exchange into a byte tunnel.
  std::vector<std::string> upgrades;
};

}  // namespace cmesh::proxy_core
