// Fault injection from typed_per_filter_config "envoy.filters.http.fault" (HTTPFault): a fixed
// delay and an HTTP abort, each with its percentage, compiled once and drawn per request.
#pragma once

#include <google/protobuf/any.pb.h>
#include <google/protobuf/map.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/router/decision.h"
#include "cmesh/router/random.h"
#include "envoy/type/v3/percent.pb.h"
#include "cors_policy.h"
#include "request_matchers.h"

namespace cmesh::router {

struct FaultPolicy {
  std::optional<Fraction> delay_fraction;  // set when the fault has a delay
  std::chrono::milliseconds delay{0};
  std::optional<Fraction> abort_fraction;  // set when the fault has an abort
  std::uint32_t abort_status = 0;
  std::optional<std::uint32_t> abort_grpc_status;  // abort.grpc_status (abort_status is then 200)
  std::vector<HeaderMatcher> headers;  // the fault applies only to requests matching all

  // Draws the delay, then the abort, for this request into `decision`.
  void Draw(const RequestView& request, Random& random, Decision& decision) const;
};

// An Envoy FractionalPercent as a Fraction (denominators HUNDRED, TEN_THOUSAND, MILLION).
bool ToFraction(const envoy::type::v3::FractionalPercent& percent, const std::string& where,
                Fraction* out, std::string* error);

using PerFilterConfigs = google::protobuf::Map<std::string, google::protobuf::Any>;

// What one level (route configuration, virtual host, route, weighted cluster) says about the
// fault filter. `present` with a null `fault` means the filter is disabled at that level.
struct FaultLevel {
  bool present = false;
  std::shared_ptr<const FaultPolicy> fault;
};

// Reads a typed_per_filter_config map. The fault filter's entry must be an HTTPFault and the
// CORS filter's a CorsPolicy (either possibly in an envoy.config.route.v3.FilterConfig wrapper);
// `cors` null means the level cannot carry CORS (weighted clusters), which is then refused. Any
// other filter's entry is refused unless marked is_optional, since cmesh-proxy runs no other
// HTTP filter.
bool CompilePerFilterConfig(const PerFilterConfigs& configs, const std::string& where, FaultLevel* out,
                            CorsLevel* cors, std::string* error);

}  // namespace cmesh::router
