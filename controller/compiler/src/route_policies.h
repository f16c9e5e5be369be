// Per-route policies of Istio's HTTP routes: retries (with Istio's default policy), fault
// injection, CORS, header operations, redirects, direct responses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cmesh/model/virtual_service.h"
#include "envoy/config/route/v3/route_components.pb.h"

namespace cmesh::compiler {

inline constexpr char kFaultFilter[] = "envoy.filters.http.fault";
inline constexpr char kCorsFilter[] = "envoy.filters.http.cors";
inline constexpr char kRouterFilter[] = "envoy.filters.http.router";

// exact/prefix/regex as Envoy's StringMatcher. The empty match (kAny) becomes the regex ".*", which
// matches every value; callers that mean "present" (header and query matchers) use present_match.
void SetStringMatcher(const model::StringMatch& m, envoy::type::matcher::v3::StringMatcher* out);

// Istio's default: 2 retries on connect-failure,refused-stream,unavailable,cancelled,
// retriable-status-codes (503), preferring hosts not tried yet (previous_hosts predicate, 5
// host selection attempts).
envoy::config::route::v3::RetryPolicy DefaultRetryPolicy();

// Istio's ConvertPolicy: no `retries` → the default policy; attempts ≤ 0 → no retries
// (nullopt); otherwise the default with the given attempts, retryOn (numeric codes become
// retriable_status_codes), perTryTimeout, and retryRemoteLocalities: true as the
// previous_priorities retry priority.
std::optional<envoy::config::route::v3::RetryPolicy> RetryPolicyFor(const std::optional<model::HTTPRetry>& retries);

// The route's timeout (0 = disabled when unset), also used as the gRPC timeout header cap.
void SetRouteTimeout(const std::optional<model::Duration>& timeout, envoy::config::route::v3::RouteAction* action);

// Header operations: `set` overwrites, `add` appends, `remove` removes.
void AddRequestHeaders(const model::HeaderOperations& ops,
                       google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>* add,
                       google::protobuf::RepeatedPtrField<std::string>* remove);

// typed_per_filter_config entries.
void SetFault(const model::HTTPFaultInjection& fault, envoy::config::route::v3::Route* route);
void SetCors(const model::CorsPolicy& cors, envoy::config::route::v3::Route* route);

// Redirect (301 unless redirectCode says otherwise). Unknown codes warn and use 301.
// derivePort FROM_REQUEST_PORT redirects to `listener_port` (Istio's translation).
void SetRedirect(const model::HTTPRedirect& redirect, uint32_t listener_port, envoy::config::route::v3::Route* route,
                 const std::string& context, std::vector<std::string>* warnings);
void SetDirectResponse(const model::HTTPDirectResponse& response, envoy::config::route::v3::Route* route);

}  // namespace cmesh::compiler
