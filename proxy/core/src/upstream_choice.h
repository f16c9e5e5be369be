// The choices both connection managers (HTTP/1.1 and HTTP/2) make the same way: the request's
// consistent-hash key from the route's hash policies, and the endpoint of an attempt (the
// cluster's balancer, skipping ejected hosts, and Istio's previous_hosts retry predicate).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
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
#include "downstream_context.h"

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

// The cluster a routed request goes to, with its worker state: for an ORIGINAL_DST cluster
// (Istio's passthrough) the one-host state of the connection's original destination. On failure,
// `status`/`flags`/`detail` are the local answer (404/503 NC, 503 UH), and `cluster` is set when
// the cluster exists (the request's record names it).
struct ClusterChoice {
  std::shared_ptr<const upstream::ClusterInfo> cluster;
  std::shared_ptr<Worker::ClusterState> state;
  int status = 0;
  std::string_view flags;
  std::string detail;
  bool ok() const { return state != nullptr; }
};
ClusterChoice ChooseCluster(Worker& worker, const ConfigSnapshot& config, const router::Decision& decision,
                            const DownstreamContext& context);

// The route's timeout as the exchange applies it: max_stream_duration caps it (both count from
// the start of forwarding; Envoy starts the route timeout at the end of the request, the same for
// the small requests of a mesh). Zero: none.
std::chrono::milliseconds EffectiveRouteTimeout(const router::Decision& decision);

// The endpoint for the next attempt, or nullopt when the cluster has no healthy one. With a
// retry policy asking for previous_hosts, up to host_selection_max_attempts more picks avoid the
// hosts already `tried` (Envoy's semantics: then the last pick stands).
std::optional<std::size_t> PickHost(Worker::ClusterState& state, const upstream::ClusterInfo& cluster,
                                    event::Random& random, const std::uint64_t* hash,
                                    const router::RetryPolicy* retry, const std::vector<std::size_t>& tried);

}  // namespace cmesh::proxy_core
