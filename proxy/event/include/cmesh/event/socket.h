// Non-blocking TCP sockets for the worker loops: listeners (one per worker with SO_REUSEPORT, so
// the kernel spreads connections), outbound connects, and the original destination of a
// connection redirected by iptables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cmesh::event {

struct Endpoint {
  std::string address;  // IPv4 or IPv6 literal
  std::uint16_t port = 0;
  std::string ToString() const;  // "1.2.3.4:80", "[::1]:80"
};

// A non-blocking listening socket on address:port (port 0 picks one; see LocalEndpoint).
// `reuse_port` sets SO_REUSEPORT so several workers can each bind the same port. -1 with
// *error on failure.
int ListenTcp(const Endpoint& at, bool reuse_port, std::string* error);

// Starts a non-blocking connect; the socket becomes writable when it completes (then check
// ConnectResult). -1 with *error when it failed at once.
int ConnectTcp(const Endpoint& to, std::string* error);
// The same from a given local address (upstream_bind_config; port chosen by the kernel). An
// empty `source` is ConnectTcp.
int ConnectTcpFrom(const Endpoint& to, const std::string& source, std::string* error);
// 0 when the connect of `fd` succeeded, else the errno it failed with.
int ConnectResult(int fd);

// Accepts one pending connection (non-blocking, close-on-exec, TCP_NODELAY); -1 when none.
int AcceptTcp(int listen_fd, Endpoint* peer);

std::optional<Endpoint> LocalEndpoint(int fd);
// The destination the client dialled before an iptables REDIRECT (SO_ORIGINAL_DST); for a
// connection that was not redirected, this is the listener's own address.
std::optional<Endpoint> OriginalDestination(int fd);

}  // namespace cmesh::event
