// Compiling one Envoy Route (match and action) and a RetryPolicy, given what the enclosing
// virtual host and route configuration contribute.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compiled_table.h"
#include "envoy/config/route/v3/route_components.pb.h"

namespace cmesh::router {

// The enclosing levels' contributions, already compiled.
struct OuterLevels {
  const std::vector<HeaderOp>* vhost_request_ops = nullptr;
  const std::vector<HeaderOp>* vhost_response_ops = nullptr;
  const std::vector<HeaderOp>* config_request_ops = nullptr;
  const std::vector<HeaderOp>* config_response_ops = nullptr;
  bool most_specific_header_mutations_wins = false;
  FaultLevel vhost_fault;
  FaultLevel config_fault;
  CorsLevel vhost_cors;
  CorsLevel config_cors;
  std::shared_ptr<const RetryPolicy> vhost_retry;
  const std::vector<MirrorPolicy>* outer_mirrors = nullptr;  // the virtual host's, else config's
  std::uint32_t max_direct_response_body_bytes = 4096;
};

bool CompileRetryPolicy(const envoy::config::route::v3::RetryPolicy& policy,
                        const std::string& where, std::shared_ptr<const RetryPolicy>* out,
                        std::string* error);

using MirrorPolicies =
    google::protobuf::RepeatedPtrField<envoy::config::route::v3::RouteAction::RequestMirrorPolicy>;

bool CompileMirrorPolicies(const MirrorPolicies& policies, const std::string& where,
                           std::vector<MirrorPolicy>* out, std::string* error);

bool CompileRoute(const envoy::config::route::v3::Route& route, const OuterLevels& outer,
                  const std::string& where, CompiledRoute* out, std::string* error);

}  // namespace cmesh::router
