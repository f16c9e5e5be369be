// An HTTP request as a client behind a sidecar would send it, for the route simulator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cmesh::simulator {

struct Request {
  std::string scheme = "http";
  std::string host;          // the name (or IP) the client connects to, without a port
  uint32_t port = 80;        // the destination port the sidecar intercepts
  std::string path = "/";    // the :path, query string included
  std::string method = "GET";
  // Extra request headers, names as given (matching lower-cases them). A "host" header replaces
  // the :authority derived from host and port, as curl's -H 'Host: x' does.
  std::vector<std::pair<std::string, std::string>> headers;
  // The address `host` resolves to (a Service's cluster IP), when known. It selects IP-bound
  // listeners (Istio's TCP listeners `IP_PORT`); without it only wildcard listeners can match.
  std::string destination_ip;

  // The :authority the client sends: the Host header when given, else host, with ":port" unless
  // the port is the scheme's default (curl's behaviour).
  std::string Authority() const;
  // The value of a header by lower-case name, pseudo-headers (:method, :authority, :scheme,
  // :path) included; several values are joined with "," as Envoy does. nullopt when absent.
  std::optional<std::string> Header(std::string_view lower_name) const;
};

// Parses "http://HOST[:PORT]/PATH?QUERY" (http or https; the port defaults to the scheme's).
// Returns nullopt and sets *error when the URL is malformed.
std::optional<Request> ParseUrl(std::string_view url, std::string* error);

}  // namespace cmesh::simulator
