// The private compiled form behind RouteTable: plain structs, built once, read-only afterwards.
#pragma once

#include <re2/re2.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/router/decision.h"
#include "cmesh/router/header_op.h"
#include "cmesh/router/route_policy.h"
#include "cmesh/router/hash_policy.h"
#include "fault_policy.h"
#include "request_matchers.h"
#include "virtual_host_index.h"

namespace cmesh::router {

struct RedirectSpec {
  std::string scheme;  // empty: the request's (https when https_redirect)
  std::string host;    // empty: the request's
  std::string port;    // ":N", or empty
  enum class PathKind { kKeep, kPath, kPrefix, kRegex };
  PathKind path_kind = PathKind::kKeep;
  std::string path;  // path_redirect or prefix_rewrite
  bool path_has_query = false;
  std::unique_ptr<RE2> regex;
  std::string substitution;
  bool strip_query = false;
};

// Envoy's RouteEntryImplBase::newUri.
std::string RedirectLocation(const RedirectSpec& spec, const RequestView& request,
                             std::size_t matched_length);

// One upstream cluster of a route (the only one, or one of its weighted clusters), with the
// header operations and fault that apply when it is chosen, resolved over every level.
struct Target {
  std::string cluster;
  std::uint32_t weight = 0;
  std::string host_rewrite;
  std::vector<HeaderOp> request_ops;
  std::vector<HeaderOp> response_ops;
  std::shared_ptr<const FaultPolicy> fault;
};

struct CompiledRoute {
  std::string name;
  RouteMatcher match;
  Decision::Kind kind = Decision::Kind::kNoRoute;

  // kCluster.
  std::vector<Target> targets;
  std::uint64_t total_weight = 0;
  std::string prefix_rewrite;
  std::unique_ptr<RE2> regex_rewrite;
  std::string regex_substitution;
  std::chrono::milliseconds timeout{15000};
  std::optional<std::chrono::milliseconds> idle_timeout;
  std::chrono::milliseconds max_stream_duration{0};
  std::shared_ptr<const RetryPolicy> retry;  // the route's, else the virtual host's
  std::vector<HashPolicy> hash_policies;
  std::uint32_t cluster_not_found_status = 503;
  std::vector<MirrorPolicy> mirrors;

  // kRedirect and kDirectResponse.
  RedirectSpec redirect;
  std::uint32_t status = 0;
  std::string body;

  // Route-level chain, for outcomes without a target.
  std::vector<HeaderOp> request_ops;
  std::vector<HeaderOp> response_ops;
  std::shared_ptr<const FaultPolicy> fault;
  std::shared_ptr<const CorsPolicy> cors;  // resolved over route, virtual host, configuration
};

struct CompiledVirtualHost {
  std::string name;
  std::vector<CompiledRoute> routes;
  bool include_request_attempt_count = false;
  bool include_attempt_count_in_response = false;
};

struct CompiledTable {
  std::string name;
  bool ignore_port_in_host_matching = false;
  VirtualHostIndex index;
  std::vector<CompiledVirtualHost> virtual_hosts;
};

}  // namespace cmesh::router
