#include "fault_policy.h"

#include <google/protobuf/util/time_util.h>

#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "field_check.h"

namespace cmesh::router {
namespace {

using envoy::extensions::filters::http::fault::v3::HTTPFault;
using envoy::type::v3::FractionalPercent;

constexpr char kFaultFilter[] = "envoy.filters.http.fault";
constexpr char kCorsFilter[] = "envoy.filters.http.cors";

std::shared_ptr<const FaultPolicy> CompileFault(const HTTPFault& fault, const std::string& at,
                                                std::string* error) {
  // The *_runtime keys name runtime overrides; cmesh-proxy has no runtime layer, so Envoy's
  // behaviour without a runtime value applies: the configured values.
  if (!OnlyFields(fault,
                  {"delay", "abort", "headers", "delay_percent_runtime", "abort_percent_runtime",
                   "delay_duration_runtime", "abort_http_status_runtime",
                   "max_active_faults_runtime", "response_rate_limit_percent_runtime",
                   "abort_grpc_status_runtime", "disable_downstream_cluster_stats",
                   "filter_metadata"},
                  at, error)) {
    return nullptr;
  }
  auto policy = std::make_shared<FaultPolicy>();
  if (fault.has_delay()) {
    const auto& delay = fault.delay();
    if (!OnlyFields(delay, {"fixed_delay", "percentage"}, at + ".delay", error)) return nullptr;
    if (!delay.has_fixed_delay() || delay.fixed_delay().seconds() < 0 ||
        delay.fixed_delay().nanos() < 0) {
      *error = at + ".delay: a fixed_delay of zero or more is required";
      return nullptr;
    }
    Fraction f;  // unset percentage: 0 %, as Envoy reads a default FractionalPercent
    if (!ToFraction(delay.percentage(), at + ".delay.percentage", &f, error)) return nullptr;
    policy->delay_fraction = f;
    policy->delay = std::chrono::milliseconds(
        google::protobuf::util::TimeUtil::DurationToMilliseconds(delay.fixed_delay()));
  }
  if (fault.has_abort()) {
    const auto& abort = fault.abort();
    if (!OnlyFields(abort, {"http_status", "grpc_status", "percentage"}, at + ".abort", error)) return nullptr;
    if (abort.error_type_case() == envoy::extensions::filters::http::fault::v3::FaultAbort::kGrpcStatus) {
      // Envoy answers a gRPC abort with HTTP 200 and the status in grpc-status.
      policy->abort_grpc_status = abort.grpc_status();
    } else if (abort.http_status() < 200 || abort.http_status() >= 600) {
      *error = at + ".abort.http_status: " + std::to_string(abort.http_status()) +
               " is not in [200, 600)";
      return nullptr;
    }
    Fraction f;
    if (!ToFraction(abort.percentage(), at + ".abort.percentage", &f, error)) return nullptr;
    policy->abort_fraction = f;
    policy->abort_status = policy->abort_grpc_status ? 200 : abort.http_status();
  }
  for (const auto& h : fault.headers()) {
    auto matcher = HeaderMatcher::Compile(h, at, error);
    if (!matcher) return nullptr;
    policy->headers.push_back(std::move(*matcher));
  }
  return policy;
}

}  // namespace

bool ToFraction(const FractionalPercent& p, const std::string& at, Fraction* out,
                std::string* error) {
  switch (p.denominator()) {
    case FractionalPercent::HUNDRED:
      out->denominator = 100;
      break;
    case FractionalPercent::TEN_THOUSAND:
      out->denominator = 10000;
      break;
    case FractionalPercent::MILLION:
      out->denominator = 1000000;
      break;
    default:
      *error = at + ": unknown percentage denominator";
      return false;
  }
  out->numerator = p.numerator();
  return true;
}

void FaultPolicy::Draw(const RequestView& request, Random& random, Decision& decision) const {
  for (const auto& h : headers) {
    if (!h.Match(request)) return;
  }
  if (delay_fraction && delay_fraction->Sample(random)) {
    decision.delay = true;
    decision.delay_duration = delay;
  }
  if (abort_fraction && abort_fraction->Sample(random)) {
    decision.abort = true;
    decision.abort_status = abort_status;
    decision.abort_grpc_status = abort_grpc_status;
  }
}

bool CompilePerFilterConfig(const PerFilterConfigs& configs, const std::string& where, FaultLevel* out,
                            CorsLevel* cors, std::string* error) {
  for (const auto& [name, any] : configs) {
    const std::string at = where + ": typed_per_filter_config[" + name + "]";
    const google::protobuf::Any* config = &any;
    bool optional = false;
    envoy::config::route::v3::FilterConfig wrapper;
    if (any.Is<envoy::config::route::v3::FilterConfig>()) {
      if (!any.UnpackTo(&wrapper)) {
        *error = at + ": cannot decode FilterConfig";
        return false;
      }
      if (wrapper.disabled()) {
        if (name == kFaultFilter) *out = FaultLevel{true, nullptr};
        if (name == kCorsFilter && cors) *cors = CorsLevel{true, nullptr};
        continue;
      }
      optional = wrapper.is_optional();
      config = &wrapper.config();
    }
    if (name == kCorsFilter && cors) {
      envoy::extensions::filters::http::cors::v3::CorsPolicy policy;
      if (!config->Is<envoy::extensions::filters::http::cors::v3::CorsPolicy>() || !config->UnpackTo(&policy)) {
        *error = at + ": unknown config type " + config->type_url() +
                 " (want envoy.extensions.filters.http.cors.v3.CorsPolicy)";
        return false;
      }
      auto compiled = CompileCors(policy, at, error);
      if (!compiled) return false;
      *cors = CorsLevel{true, std::move(compiled)};
      continue;
    }
    if (name != kFaultFilter) {
      if (optional) continue;
      *error = at + ": cmesh-proxy runs no HTTP filter " + name +
               (name == kCorsFilter ? std::string(" at this level") : std::string()) +
               " (it implements envoy.filters.http.fault, envoy.filters.http.cors on routes, virtual hosts and "
               "route configurations, and the router)";
      return false;
    }
    HTTPFault fault;
    if (!config->Is<HTTPFault>() || !config->UnpackTo(&fault)) {
      *error = at + ": unknown config type " + config->type_url() +
               " (want envoy.extensions.filters.http.fault.v3.HTTPFault)";
      return false;
    }
    auto policy = CompileFault(fault, at, error);
    if (!policy) return false;
    *out = FaultLevel{true, std::move(policy)};
  }
  return true;
}

}  // namespace cmesh::router
