#include "decision_json.h"

#include <nlohmann/json.hpp>

namespace cmesh::cli {

std::string DecisionToJson(const simulator::Request& request, const simulator::Decision& d,
                           const std::string& rule) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["request"] = {{"method", request.method},
                  {"scheme", request.scheme},
                  {"authority", request.Authority()},
                  {"path", request.path},
                  {"destinationIp", request.destination_ip}};
  j["outcome"] = simulator::OutcomeName(d.outcome);
  j["listener"] = d.listener;
  j["filterChain"] = d.filter_chain;
  j["http"] = d.http;
  if (d.http) {
    j["routeConfig"] = d.route_config;
    j["virtualHost"] = d.virtual_host;
    j["matchedDomain"] = d.matched_domain;
    j["routeIndex"] = d.route_index;
    j["routeName"] = d.route_name;
    j["routeMatch"] = d.route_match;
  }
  if (d.config) {
    j["virtualService"] = {{"namespace", d.config->ns}, {"name", d.config->name}, {"config", d.config->raw}};
    if (!rule.empty()) j["virtualService"]["rule"] = rule;
  }
  if (!d.cluster.empty()) j["cluster"] = d.cluster;
  if (!d.weighted_clusters.empty()) {
    j["weightedClusters"] = Json::array();
    for (const auto& w : d.weighted_clusters) {
      j["weightedClusters"].push_back({{"cluster", w.cluster}, {"weight", w.weight}, {"percent", w.percent}});
    }
  }
  if (d.outcome == simulator::Decision::Outcome::kRedirect) {
    j["redirect"] = {{"location", d.redirect_location}, {"code", d.redirect_code}};
  }
  if (d.outcome == simulator::Decision::Outcome::kDirectResponse) {
    j["directResponse"] = {{"status", d.direct_status}, {"body", d.direct_body}};
  }
  if (!d.missing_clusters.empty()) j["missingClusters"] = d.missing_clusters;
  if (d.LocalStatus() != 0) j["localStatus"] = d.LocalStatus();
  if (d.timeout_ms) j["timeoutMs"] = *d.timeout_ms;
  if (d.retry) {
    j["retry"] = {{"retryOn", d.retry->retry_on}, {"numRetries", d.retry->num_retries}};
    if (d.retry->per_try_timeout_ms) j["retry"]["perTryTimeoutMs"] = *d.retry->per_try_timeout_ms;
  }
  if (d.fault) {
    Json f = Json::object();
    if (d.fault->delay_ms) f["delay"] = {{"fixedDelayMs", *d.fault->delay_ms}, {"percent", d.fault->delay_percent}};
    if (d.fault->abort_http_status) {
      f["abort"] = {{"httpStatus", *d.fault->abort_http_status}, {"percent", d.fault->abort_percent}};
    } else if (d.fault->abort_grpc_status) {
      f["abort"] = {{"grpcStatus", *d.fault->abort_grpc_status}, {"percent", d.fault->abort_percent}};
    }
    j["fault"] = f;
  }
  for (const auto& m : d.mirrors) j["mirrors"].push_back({{"cluster", m.cluster}, {"percent", m.percent}});
  if (!d.prefix_rewrite.empty()) j["prefixRewrite"] = d.prefix_rewrite;
  if (!d.regex_rewrite.empty()) j["regexRewrite"] = d.regex_rewrite;
  if (!d.rewritten_path.empty()) j["upstreamPath"] = d.rewritten_path;
  if (!d.host_rewrite.empty()) j["hostRewrite"] = d.host_rewrite;
  auto headers = [](const std::vector<simulator::HeaderChange>& changes) {
    Json a = Json::array();
    for (const auto& c : changes) {
      a.push_back({{"name", c.name},
                   {"value", c.value},
                   {"op", c.remove ? "remove" : c.append ? "append" : "set"},
                   {"scope", c.scope}});
    }
    return a;
  };
  if (!d.request_headers.empty()) j["requestHeaders"] = headers(d.request_headers);
  if (!d.response_headers.empty()) j["responseHeaders"] = headers(d.response_headers);
  if (d.cors) {
    j["cors"] = {{"allowOrigins", d.cors->allow_origins}, {"allowMethods", d.cors->allow_methods},
                 {"allowHeaders", d.cors->allow_headers}, {"exposeHeaders", d.cors->expose_headers},
                 {"maxAge", d.cors->max_age}};
    if (d.cors->allow_credentials) j["cors"]["allowCredentials"] = *d.cors->allow_credentials;
  }
  if (!d.notes.empty()) j["notes"] = d.notes;
  return j.dump(2) + "\n";
}

}  // namespace cmesh::cli
