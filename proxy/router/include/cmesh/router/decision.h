// What the route table decided for one request. String views and pointers refer to the RouteTable
// that made the decision: hold its shared_ptr while using them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cmesh/router/cors.h"
#include "cmesh/router/hash_policy.h"
#include "cmesh/router/header_op.h"
#include "cmesh/router/route_policy.h"

namespace cmesh::router {

struct Decision {
  enum class Kind {
    kNoRoute,         // 404, response flag NR (no virtual host, or no route of it matched)
    kCluster,         // forward to `cluster`
    kRedirect,        // answer `status` with Location `location`
    kDirectResponse,  // answer `status` with `body`
  };
  Kind kind = Kind::kNoRoute;
  std::uint32_t status = 404;  // kNoRoute (404), kRedirect, kDirectResponse; 0 for kCluster

  std::string_view virtual_host;  // name; empty when no virtual host matched
  std::string_view route_name;
  int route_index = -1;  // position in the virtual host's routes

  // kCluster.
  std::string_view cluster;  // for weighted clusters, the one drawn for this request
  std::uint32_t cluster_not_found_status = 503;
  std::string path_rewrite;        // non-empty: the :path to send upstream (query included)
  std::string_view host_rewrite;   // non-empty: the Host to send upstream
  std::chrono::milliseconds timeout{15000};  // 0: no timeout (Envoy's default 15 s when unset)
  std::optional<std::chrono::milliseconds> idle_timeout;
  std::chrono::milliseconds max_stream_duration{0};  // 0: none
  const RetryPolicy* retry = nullptr;                // nullptr: no retries
  std::span<const HashPolicy> hash_policies;         // for RING_HASH/MAGLEV clusters
  std::span<const MirrorPolicy> mirrors;  // each mirrored when its fraction samples true
  bool include_request_attempt_count = false;    // x-envoy-attempt-count upstream
  bool include_attempt_count_in_response = false;

  // kRedirect / kDirectResponse.
  std::string location;
  std::string_view body;

  // The route's CORS policy (null: none); the connection manager applies it.
  const CorsPolicy* cors = nullptr;

  // Fault injection (envoy.filters.http.fault), already drawn for this request.
  bool delay = false;
  std::chrono::milliseconds delay_duration{0};
  bool abort = false;
  std::uint32_t abort_status = 0;
  std::optional<std::uint32_t> abort_grpc_status;  // a gRPC abort: HTTP 200 with this grpc-status

  // Header operations, in Envoy's order (most specific level first unless the route
  // configuration sets most_specific_header_mutations_wins), each level's removals before its
  // additions. Response operations apply to forwarded, redirect and direct responses alike.
  std::span<const HeaderOp> request_header_ops;
  std::span<const HeaderOp> response_header_ops;
};

}  // namespace cmesh::router
