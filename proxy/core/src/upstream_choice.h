// The choices both connection managers (HTTP/1.1 and HTTP/2) make the same way: the request's
// consistent-hash key from the route's hash policies, and the endpoint of an attempt (the
// cluster's balancer, skipping ejected hosts, and Istio's previous_hosts retry predicate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/event/random.h"
#include "cmesh/event/socket.h"
#include "cmesh/http1/encoder.h"
#include "cmesh/proxy_core/worker.h"
#include "cmesh/router/decision.h"

namespace cmesh::proxy_core {

// What the hash policies read from a request.
struct HashInputs {
  const std::vector<http1::OwnedHeader>& headers;  // names compared without case
  std::string_view path;
  std::string_view authority;  // for an HTTP/2 header policy on ":authority"
  const event::Endpoint& peer;
};

// Envoy's combination of the route's hash policies (each key hashed, rotated and xored, a
// terminal policy that produced a key ends it). A cookie policy with a TTL whose cookie the
// client did not send hashes the client's address instead; when `set_cookies` is given, the
// Set-Cookie that makes the client send it next time is appended there.
std::optional<std::uint64_t> RequestHash(std::span<const router::HashPolicy> policies, const HashInputs& in,
                                         std::vector<http1::OwnedHeader>* set_cookies);

// The endpoint for the next attempt, or nullopt when the cluster has no healthy one. With a
// retry policy asking for previous_hosts, up to host_selection_max_attempts more picks avoid the
// hosts already `tried` (Envoy's semantics: then the last pick stands).
std::optional<std::size_t> PickHost(Worker::ClusterState& state, const upstream::ClusterInfo& cluster,
                                    event::Random& random, const std::uint64_t* hash,
                                    const router::RetryPolicy* retry, const std::vector<std::size_t>& tried);

}  // namespace cmesh::proxy_core
