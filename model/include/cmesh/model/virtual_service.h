// networking.istio.io VirtualService (v1alpha3, v1beta1 and v1 share this spec).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/model/common.h"

namespace cmesh::model {

struct Destination {
  std::string host;
  std::string subset;
  std::optional<uint32_t> port;  // destination.port.number
};

struct HeaderOperations {
  std::map<std::string, std::string> set;
  std::map<std::string, std::string> add;
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

struct Headers {
  HeaderOperations request;
  HeaderOperations response;
};

struct HTTPMatchRequest {
  std::string name;
  std::optional<StringMatch> uri;
  std::optional<StringMatch> scheme;
  std::optional<StringMatch> method;
  std::optional<StringMatch> authority;
  std::map<std::string, StringMatch> headers;
  std::map<std::string, StringMatch> query_params;
  std::map<std::string, StringMatch> without_headers;
  std::optional<uint32_t> port;
  Labels source_labels;
  std::vector<std::string> gateways;
  std::string source_namespace;
  bool ignore_uri_case = false;
  std::string stat_prefix;
};

struct HTTPRouteDestination {
  Destination destination;
  std::optional<int32_t> weight;  // absent: 100 when alone; Istio requires weights when several
  Headers headers;
};

struct HTTPRedirect {
  std::string uri;
  std::string authority;
  std::optional<uint32_t> port;
  bool derive_port_from_request = false;  // derivePort: FROM_REQUEST_PORT
  std::string scheme;
  uint32_t redirect_code = 301;
};

struct HTTPDirectResponse {
  uint32_t status = 0;
  std::optional<std::string> body;  // body.string, or body.bytes decoded from base64
};

struct RegexRewrite {
  std::string match;
  std::string rewrite;
};

struct HTTPRewrite {
  std::string uri;
  std::string authority;
  std::optional<RegexRewrite> uri_regex_rewrite;
};

struct HTTPRetry {
  int32_t attempts = 0;
  std::optional<Duration> per_try_timeout;
  std::string retry_on;
  std::optional<bool> retry_remote_localities;
};

struct FaultDelay {
  std::optional<Duration> fixed_delay;
  std::optional<double> percentage;  // percentage.value, 0-100
  std::optional<int32_t> percent;    // deprecated integer percent
};

struct FaultAbort {
  std::optional<int32_t> http_status;
  std::string grpc_status;
  std::optional<double> percentage;
};

struct HTTPFaultInjection {
  std::optional<FaultDelay> delay;
  std::optional<FaultAbort> abort;
};

struct HTTPMirrorPolicy {
  Destination destination;
  std::optional<double> percentage;
};

struct CorsPolicy {
  std::vector<StringMatch> allow_origins;
  std::vector<std::string> allow_methods;
  std::vector<std::string> allow_headers;
  std::vector<std::string> expose_headers;
  std::optional<Duration> max_age;
  std::optional<bool> allow_credentials;
  // unmatchedPreflights: "" (unspecified), "FORWARD" or "IGNORE".
  std::string unmatched_preflights;
};

struct Delegate {
  std::string name;
  std::string ns;
};

struct HTTPRoute {
  std::string name;
  std::vector<HTTPMatchRequest> match;
  std::vector<HTTPRouteDestination> route;
  std::optional<HTTPRedirect> redirect;
  std::optional<HTTPDirectResponse> direct_response;
  std::optional<Delegate> delegate;
  std::optional<HTTPRewrite> rewrite;
  std::optional<Duration> timeout;
  std::optional<HTTPRetry> retries;
  std::optional<HTTPFaultInjection> fault;
  std::optional<Destination> mirror;
  std::optional<double> mirror_percentage;  // mirrorPercentage.value
  std::vector<HTTPMirrorPolicy> mirrors;
  std::optional<CorsPolicy> cors_policy;
  Headers headers;
};

struct L4MatchAttributes {
  std::vector<std::string> destination_subnets;
  std::optional<uint32_t> port;
  Labels source_labels;
  std::vector<std::string> gateways;
  std::string source_namespace;
};

struct RouteDestination {
  Destination destination;
  std::optional<int32_t> weight;
};

struct TCPRoute {
  std::vector<L4MatchAttributes> match;
  std::vector<RouteDestination> route;
};

struct VirtualService {
  std::string api_version;  // e.g. networking.istio.io/v1
  ObjectMeta meta;
  Origin origin;
  std::vector<std::string> hosts;
  std::vector<std::string> gateways;
  std::vector<HTTPRoute> http;
  std::vector<TCPRoute> tcp;
  size_t tls_route_count = 0;  // tls routes are parsed for validation only (not supported yet)
  std::vector<std::string> export_to;
};

}  // namespace cmesh::model
