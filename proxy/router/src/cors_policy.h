// Compiling Envoy's CorsPolicy (envoy.extensions.filters.http.cors.v3) for the router.
#pragma once

#include <memory>
#include <string>

#include "cmesh/router/cors.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"

namespace cmesh::router {

// nullptr (and *error naming `where` and the field) for what cmesh-proxy cannot honour.
std::shared_ptr<const CorsPolicy> CompileCors(const envoy::extensions::filters::http::cors::v3::CorsPolicy& policy,
                                              const std::string& where, std::string* error);

// What one level says about the CORS filter (as FaultLevel does for faults).
struct CorsLevel {
  bool present = false;
  std::shared_ptr<const CorsPolicy> cors;  // null with present: disabled at that level
};

}  // namespace cmesh::router
