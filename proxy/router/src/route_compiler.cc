#include "route_compiler.h"

#include <google/protobuf/util/time_util.h>

#include <limits>

#include "field_check.h"
#include "header_ops.h"

namespace cmesh::router {
namespace {

using envoy::config::route::v3::RedirectAction;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteAction;
using std::chrono::milliseconds;

milliseconds Millis(const google::protobuf::Duration& d) {
  return milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(d));
}

bool NonNegative(const google::protobuf::Duration& d, const std::string& at, std::string* error) {
  if (d.seconds() < 0 || d.nanos() < 0) {
    *error = at + ": a negative duration";
    return false;
  }
  return true;
}

// Joins the header operation levels in Envoy's order: the weighted cluster's first, then route,
// virtual host, route configuration (reversed with most_specific_header_mutations_wins).
std::vector<HeaderOp> Chain(const std::vector<HeaderOp>* cluster,
                            const std::vector<HeaderOp>& route, const std::vector<HeaderOp>* vhost,
                            const std::vector<HeaderOp>* config, bool most_specific_wins) {
  std::vector<HeaderOp> out;
  auto add = [&out](const std::vector<HeaderOp>* level) {
    if (level) out.insert(out.end(), level->begin(), level->end());
  };
  add(cluster);
  if (most_specific_wins) {
    add(config);
    add(vhost);
    add(&route);
  } else {
    add(&route);
    add(vhost);
    add(config);
  }
  return out;
}

// The most specific level that mentions the fault filter decides.
std::shared_ptr<const FaultPolicy> Resolve(std::initializer_list<const FaultLevel*> levels) {
  for (const FaultLevel* level : levels) {
    if (level->present) return level->fault;
  }
  return nullptr;
}

bool CompileRedirect(const RedirectAction& r, const std::string& at, CompiledRoute* out,
                     std::string* error) {
  if (!OnlyFields(r,
                  {"scheme_redirect", "https_redirect", "host_redirect", "port_redirect",
                   "path_redirect", "prefix_rewrite", "regex_rewrite", "response_code",
                   "strip_query"},
                  at, error)) {
    return false;
  }
  RedirectSpec& spec = out->redirect;
  if (!r.scheme_redirect().empty()) {
    spec.scheme = r.scheme_redirect();
  } else if (r.https_redirect()) {
    spec.scheme = "https";
  }
  spec.host = r.host_redirect();
  if (r.port_redirect() != 0) {
    if (r.port_redirect() > 65535) {
      *error = at + ".port_redirect: " + std::to_string(r.port_redirect()) + " is not a port";
      return false;
    }
    spec.port = ":" + std::to_string(r.port_redirect());
  }
  spec.strip_query = r.strip_query();
  switch (r.path_rewrite_specifier_case()) {
    case RedirectAction::kPathRedirect:
      spec.path_kind = RedirectSpec::PathKind::kPath;
      spec.path = r.path_redirect();
      spec.path_has_query = spec.path.find('?') != std::string::npos;
      break;
    case RedirectAction::kPrefixRewrite:
      spec.path_kind = RedirectSpec::PathKind::kPrefix;
      spec.path = r.prefix_rewrite();
      break;
    case RedirectAction::kRegexRewrite: {
      spec.path_kind = RedirectSpec::PathKind::kRegex;
      spec.regex = CompileRegex(r.regex_rewrite().pattern(), at + ".regex_rewrite", error);
      if (!spec.regex) return false;
      spec.substitution = r.regex_rewrite().substitution();
      std::string why;
      if (!spec.regex->CheckRewriteString(spec.substitution, &why)) {
        *error = at + ".regex_rewrite: invalid substitution: " + why;
        return false;
      }
      break;
    }
    default:
      break;
  }
  switch (r.response_code()) {
    case RedirectAction::MOVED_PERMANENTLY:
      out->status = 301;
      break;
    case RedirectAction::FOUND:
      out->status = 302;
      break;
    case RedirectAction::SEE_OTHER:
      out->status = 303;
      break;
    case RedirectAction::TEMPORARY_REDIRECT:
      out->status = 307;
      break;
    case RedirectAction::PERMANENT_REDIRECT:
      out->status = 308;
      break;
    default:
      *error = at + ".response_code: unknown redirect code";
      return false;
  }
  return true;
}

bool CompileDirectResponse(const envoy::config::route::v3::DirectResponseAction& d,
                           const OuterLevels& outer, const std::string& at, CompiledRoute* out,
                           std::string* error) {
  if (!OnlyFields(d, {"status", "body"}, at, error)) return false;
  if (d.status() < 200 || d.status() >= 600) {
    *error = at + ".status: " + std::to_string(d.status()) + " is not in [200, 600)";
    return false;
  }
  out->status = d.status();
  if (d.has_body()) {
    if (!OnlyFields(d.body(), {"inline_string", "inline_bytes"}, at + ".body", error)) return false;
    out->body = d.body().has_inline_string() ? d.body().inline_string() : d.body().inline_bytes();
    if (out->body.size() > outer.max_direct_response_body_bytes) {
      *error = at + ".body: " + std::to_string(out->body.size()) + " bytes, above the maximum of " +
               std::to_string(outer.max_direct_response_body_bytes) +
               " (max_direct_response_body_size_bytes)";
      return false;
    }
  }
  return true;
}

bool CompileTarget(const std::string& cluster, std::uint32_t weight, const std::string& at,
                   Target* out, std::string* error) {
  if (cluster.empty()) {
    *error = at + ": an empty cluster name";
    return false;
  }
  out->cluster = cluster;
  out->weight = weight;
  return true;
}

// Istio's consistentHash becomes one of these; each is checked for what the proxy can compute.
bool CompileHashPolicies(const RouteAction& a, const std::string& at, std::vector<HashPolicy>* out,
                         std::string* error) {
  for (int i = 0; i < a.hash_policy_size(); ++i) {
    const auto& hp = a.hash_policy(i);
    const std::string hat = at + ".hash_policy[" + std::to_string(i) + "]";
    if (!OnlyFields(hp, {"header", "cookie", "connection_properties", "query_parameter", "terminal"}, hat, error)) {
      return false;
    }
    HashPolicy policy;
    policy.terminal = hp.terminal();
    if (hp.has_header()) {
      if (!OnlyFields(hp.header(), {"header_name"}, hat + ".header", error)) return false;
      policy.kind = HashPolicy::Kind::kHeader;
      policy.name = ToLower(hp.header().header_name());
    } else if (hp.has_cookie()) {
      if (!OnlyFields(hp.cookie(), {"name", "ttl", "path"}, hat + ".cookie", error)) return false;
      policy.kind = HashPolicy::Kind::kCookie;
      policy.name = hp.cookie().name();
      policy.cookie_path = hp.cookie().path();
      if (hp.cookie().has_ttl()) {
        policy.cookie_ttl = std::chrono::seconds(hp.cookie().ttl().seconds());
      }
    } else if (hp.has_connection_properties()) {
      if (!hp.connection_properties().source_ip()) {
        *error = hat + ".connection_properties: only source_ip is a hash key";
        return false;
      }
      policy.kind = HashPolicy::Kind::kSourceIp;
    } else if (hp.has_query_parameter()) {
      policy.kind = HashPolicy::Kind::kQueryParameter;
      policy.name = hp.query_parameter().name();
    } else {
      *error = hat + ": no hash key (header, cookie, connection_properties or query_parameter)";
      return false;
    }
    if (policy.kind != HashPolicy::Kind::kSourceIp && policy.name.empty()) {
      *error = hat + ": empty name";
      return false;
    }
    out->push_back(std::move(policy));
  }
  return true;
}

bool CompileRouteAction(const RouteAction& a, const std::vector<HeaderOp>& route_req,
                        const std::vector<HeaderOp>& route_resp, const OuterLevels& outer,
                        const FaultLevel& route_fault, const std::string& at, CompiledRoute* out,
                        std::string* error) {
  // hash_policy feeds the ring-hash (and Maglev) clusters' endpoint choice;
  // include_vh_rate_limits has no effect without rate limits (refused).
  if (!OnlyFields(a,
                  {"cluster", "weighted_clusters", "prefix_rewrite", "regex_rewrite",
                   "host_rewrite_literal", "timeout", "idle_timeout", "retry_policy",
                   "max_stream_duration", "request_mirror_policies", "hash_policy",
                   "cluster_not_found_response_code", "include_vh_rate_limits"},
                  at, error)) {
    return false;
  }
  out->kind = Decision::Kind::kCluster;
  const std::string route_host_rewrite = a.host_rewrite_literal();
  std::vector<std::pair<Target, const envoy::config::route::v3::WeightedCluster::ClusterWeight*>>
      targets;
  if (a.cluster_specifier_case() == RouteAction::kCluster) {
    Target t;
    if (!CompileTarget(a.cluster(), 1, at + ".cluster", &t, error)) return false;
    targets.emplace_back(std::move(t), nullptr);
  } else if (a.cluster_specifier_case() == RouteAction::kWeightedClusters) {
    const auto& wc = a.weighted_clusters();
    // total_weight is deprecated: current Envoy uses the sum of the weights, as we do. Without a
    // runtime layer, runtime_key_prefix leaves the configured weights in force.
    if (!OnlyFields(wc, {"clusters", "total_weight", "runtime_key_prefix"},
                    at + ".weighted_clusters", error)) {
      return false;
    }
    if (wc.clusters().empty()) {
      *error = at + ".weighted_clusters: no clusters";
      return false;
    }
    for (int i = 0; i < wc.clusters_size(); ++i) {
      const auto& c = wc.clusters(i);
      const std::string cat = at + ".weighted_clusters.clusters[" + std::to_string(i) + "]";
      if (!OnlyFields(c,
                      {"name", "weight", "request_headers_to_add", "request_headers_to_remove",
                       "response_headers_to_add", "response_headers_to_remove",
                       "typed_per_filter_config", "host_rewrite_literal"},
                      cat, error)) {
        return false;
      }
      Target t;
      if (!CompileTarget(c.name(), c.weight().value(), cat, &t, error)) return false;
      out->total_weight += t.weight;
      targets.emplace_back(std::move(t), &c);
    }
    if (out->total_weight == 0) {
      *error = at + ".weighted_clusters: the sum of the weights must be greater than 0";
      return false;
    }
    if (out->total_weight > std::numeric_limits<std::uint32_t>::max()) {
      *error = at + ".weighted_clusters: the sum of the weights exceeds 4294967295";
      return false;
    }
  } else {
    *error = at + ": the cluster specifier must be cluster or weighted_clusters "
                  "(cluster_header and cluster specifier plugins are not supported by cmesh-proxy)";
    return false;
  }
  for (auto& [t, c] : targets) {
    std::vector<HeaderOp> creq, cresp;
    FaultLevel cluster_fault;
    t.host_rewrite = route_host_rewrite;
    if (c) {
      const std::string cat = at + ".weighted_clusters[" + c->name() + "]";
      if (!CompileHeaderOps(c->request_headers_to_add(), c->request_headers_to_remove(),
                            cat + " request headers", creq, error) ||
          !CompileHeaderOps(c->response_headers_to_add(), c->response_headers_to_remove(),
                            cat + " response headers", cresp, error) ||
          !CompilePerFilterConfig(c->typed_per_filter_config(), cat, &cluster_fault, nullptr, error)) {
        return false;
      }
      if (!c->host_rewrite_literal().empty()) t.host_rewrite = c->host_rewrite_literal();
    }
    const bool wins = outer.most_specific_header_mutations_wins;
    t.request_ops =
        Chain(&creq, route_req, outer.vhost_request_ops, outer.config_request_ops, wins);
    t.response_ops =
        Chain(&cresp, route_resp, outer.vhost_response_ops, outer.config_response_ops, wins);
    t.fault = Resolve({&cluster_fault, &route_fault, &outer.vhost_fault, &outer.config_fault});
    out->targets.push_back(std::move(t));
  }
  if (!a.prefix_rewrite().empty() && a.has_regex_rewrite()) {
    *error = at + ": only one of prefix_rewrite and regex_rewrite may be set";
    return false;
  }
  out->prefix_rewrite = a.prefix_rewrite();
  if (a.has_regex_rewrite()) {
    out->regex_rewrite = CompileRegex(a.regex_rewrite().pattern(), at + ".regex_rewrite", error);
    if (!out->regex_rewrite) return false;
    out->regex_substitution = a.regex_rewrite().substitution();
    std::string why;
    if (!out->regex_rewrite->CheckRewriteString(out->regex_substitution, &why)) {
      *error = at + ".regex_rewrite: invalid substitution: " + why;
      return false;
    }
  }
  if (a.has_timeout()) {
    if (!NonNegative(a.timeout(), at + ".timeout", error)) return false;
    out->timeout = Millis(a.timeout());
  }
  if (a.has_idle_timeout()) {
    if (!NonNegative(a.idle_timeout(), at + ".idle_timeout", error)) return false;
    out->idle_timeout = Millis(a.idle_timeout());
  }
  if (a.has_max_stream_duration()) {
    const auto& msd = a.max_stream_duration();
    // Istio sets grpc_timeout_header_max next to max_stream_duration; it only acts on requests
    // carrying a grpc-timeout header (gRPC, which cmesh-proxy part 1 does not carry).
    if (!OnlyFields(msd, {"max_stream_duration", "grpc_timeout_header_max"},
                    at + ".max_stream_duration", error) ||
        !NonNegative(msd.max_stream_duration(), at + ".max_stream_duration", error)) {
      return false;
    }
    out->max_stream_duration = Millis(msd.max_stream_duration());
  }
  if (a.has_retry_policy()) {
    if (!CompileRetryPolicy(a.retry_policy(), at + ".retry_policy", &out->retry, error)) {
      return false;
    }
  } else {
    out->retry = outer.vhost_retry;
  }
  if (!CompileHashPolicies(a, at, &out->hash_policies, error)) return false;
  switch (a.cluster_not_found_response_code()) {
    case RouteAction::SERVICE_UNAVAILABLE:
      out->cluster_not_found_status = 503;
      break;
    case RouteAction::NOT_FOUND:
      out->cluster_not_found_status = 404;
      break;
    case RouteAction::INTERNAL_SERVER_ERROR:
      out->cluster_not_found_status = 500;
      break;
    default:
      *error = at + ".cluster_not_found_response_code: unknown code";
      return false;
  }
  if (!a.request_mirror_policies().empty()) {
    return CompileMirrorPolicies(a.request_mirror_policies(), at, &out->mirrors, error);
  }
  if (outer.outer_mirrors) out->mirrors = *outer.outer_mirrors;
  return true;
}

}  // namespace

bool CompileRoute(const Route& route, const OuterLevels& outer, const std::string& where,
                  CompiledRoute* out, std::string* error) {
  const std::string at =
      where + (route.name().empty() ? std::string() : " \"" + route.name() + "\"");
  // decorator, tracing, stat_prefix and metadata feed tracing, stats and logs only.
  if (!OnlyFields(route,
                  {"match", "route", "redirect", "direct_response", "metadata", "decorator", "name",
                   "typed_per_filter_config", "request_headers_to_add", "request_headers_to_remove",
                   "response_headers_to_add", "response_headers_to_remove", "tracing",
                   "stat_prefix", "per_request_buffer_limit_bytes"},
                  at, error)) {
    return false;
  }
  out->name = route.name();
  auto match = RouteMatcher::Compile(route.match(), at, error);
  if (!match) return false;
  out->match = std::move(*match);
  FaultLevel route_fault;
  CorsLevel route_cors;
  if (!CompilePerFilterConfig(route.typed_per_filter_config(), at, &route_fault, &route_cors, error)) {
    return false;
  }
  out->fault = Resolve({&route_fault, &outer.vhost_fault, &outer.config_fault});
  // The most specific level that mentions the CORS filter decides, as for faults.
  for (const CorsLevel* level : std::initializer_list<const CorsLevel*>{&route_cors, &outer.vhost_cors, &outer.config_cors}) {
    if (level->present) {
      out->cors = level->cors;
      break;
    }
  }
  std::vector<HeaderOp> route_req, route_resp;
  if (!CompileHeaderOps(route.request_headers_to_add(), route.request_headers_to_remove(),
                        at + " request headers", route_req, error) ||
      !CompileHeaderOps(route.response_headers_to_add(), route.response_headers_to_remove(),
                        at + " response headers", route_resp, error)) {
    return false;
  }
  const bool wins = outer.most_specific_header_mutations_wins;
  out->request_ops =
      Chain(nullptr, route_req, outer.vhost_request_ops, outer.config_request_ops, wins);
  out->response_ops =
      Chain(nullptr, route_resp, outer.vhost_response_ops, outer.config_response_ops, wins);
  switch (route.action_case()) {
    case Route::kRoute:
      return CompileRouteAction(route.route(), route_req, route_resp, outer, route_fault,
                                at + ": route", out, error);
    case Route::kRedirect:
      out->kind = Decision::Kind::kRedirect;
      return CompileRedirect(route.redirect(), at + ": redirect", out, error);
    case Route::kDirectResponse:
      out->kind = Decision::Kind::kDirectResponse;
      return CompileDirectResponse(route.direct_response(), outer, at + ": direct_response", out,
                                   error);
    default:
      *error = at + ": the action must be route, redirect or direct_response";
      return false;
  }
}

}  // namespace cmesh::router
