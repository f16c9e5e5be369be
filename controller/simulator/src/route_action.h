// Reads a matched route's action and settings (cluster, weights, redirect, direct response,
// timeout, retries, fault, mirrors, rewrites, header operations, CORS, Istio metadata) into a
// Decision.
#pragma once

#include "cmesh/simulator/decision.h"
#include "cmesh/simulator/request.h"
#include "envoy/config/route/v3/route_components.pb.h"

namespace cmesh::simulator {

// `matched_prefix_length` is how much of the path the route's match covered (prefix_rewrite
// replaces exactly that part).
void ApplyRoute(const envoy::config::route::v3::VirtualHost& virtual_host,
                const envoy::config::route::v3::Route& route, const Request& request,
                size_t matched_prefix_length, Decision& decision);

// Envoy's Location for a redirect action (scheme, host, port and path rules of Http::Utility::newUri).
std::string RedirectLocation(const envoy::config::route::v3::RedirectAction& redirect,
                             const Request& request, size_t matched_prefix_length);

// Parses an Istio config path such as /apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME.
ConfigRef ParseConfigRef(const std::string& raw);

}  // namespace cmesh::simulator
