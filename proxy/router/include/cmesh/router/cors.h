// A route's CORS policy (typed_per_filter_config "envoy.filters.http.cors", Envoy's CorsPolicy,
// which Istio writes for a VirtualService's corsPolicy). The connection manager answers allowed
// preflight requests itself and adds the Access-Control-* headers to other answers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cmesh/router/route_policy.h"

namespace cmesh::router {

class CorsPolicy {
 public:
  // Whether `origin` (the Origin header) matches one of allow_origin_string_match.
  bool AllowsOrigin(std::string_view origin) const;

  std::string allow_methods;   // comma-separated, as configured
  std::string allow_headers;
  std::string expose_headers;
  std::string max_age;         // seconds, as configured (empty: not sent)
  std::optional<bool> allow_credentials;
  Fraction enabled{100, 100};  // filter_enabled; a request outside it is not touched
  // A preflight from an origin that is not allowed goes upstream (true, Envoy's default) or is
  // answered here without CORS headers (false).
  bool forward_not_matching_preflights = true;

  struct Origins;  // the compiled matchers (src/cors_policy.cc)
  std::shared_ptr<const Origins> origins;
};

}  // namespace cmesh::router
