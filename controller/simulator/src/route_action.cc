#include "route_action.h"

#include <re2/re2.h>

#include <google/protobuf/util/time_util.h>

#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "matchers.h"
#include "virtual_host_selector.h"

// Istio still emits (and users still see) a few fields Envoy marks deprecated; reading them is
// the point of a simulator.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cmesh::simulator {
namespace {

using envoy::config::core::v3::HeaderValueOption;
using envoy::config::route::v3::RedirectAction;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteAction;
using envoy::config::route::v3::VirtualHost;
using envoy::type::v3::FractionalPercent;

constexpr char kFaultFilter[] = "envoy.filters.http.fault";
constexpr char kCorsFilter[] = "envoy.filters.http.cors";

int64_t Millis(const google::protobuf::Duration& d) {
  return google::protobuf::util::TimeUtil::DurationToMilliseconds(d);
}

double Percent(const FractionalPercent& p) {
  switch (p.denominator()) {
    case FractionalPercent::HUNDRED:
      return p.numerator();
    case FractionalPercent::TEN_THOUSAND:
      return p.numerator() / 100.0;
    case FractionalPercent::MILLION:
      return p.numerator() / 10000.0;
    default:
      return 0;
  }
}

uint32_t RedirectCode(RedirectAction::RedirectResponseCode code) {
  switch (code) {
    case RedirectAction::FOUND:
      return 302;
    case RedirectAction::SEE_OTHER:
      return 303;
    case RedirectAction::TEMPORARY_REDIRECT:
      return 307;
    case RedirectAction::PERMANENT_REDIRECT:
      return 308;
    default:
      return 301;
  }
}

void AddHeaderOptions(const google::protobuf::RepeatedPtrField<HeaderValueOption>& options,
                      const google::protobuf::RepeatedPtrField<std::string>& removals,
                      const std::string& scope, std::vector<HeaderChange>& out) {
  for (const auto& option : options) {
    HeaderChange change;
    change.name = option.header().key();
    change.value = option.header().value();
    change.scope = scope;
    // Envoy's default is APPEND_IF_EXISTS_OR_ADD; the legacy `append` flag wins when present.
    if (option.has_append()) {
      change.append = option.append().value();
    } else {
      change.append = option.append_action() == HeaderValueOption::APPEND_IF_EXISTS_OR_ADD ||
                      option.append_action() == HeaderValueOption::ADD_IF_ABSENT;
    }
    out.push_back(change);
  }
  for (const auto& name : removals) {
    HeaderChange change;
    change.name = name;
    change.remove = true;
    change.scope = scope;
    out.push_back(change);
  }
}

// Most specific wins: the route's per-filter config, else the virtual host's.
const google::protobuf::Any* PerFilterConfig(const VirtualHost& vh, const Route& route,
                                             const std::string& filter) {
  auto it = route.typed_per_filter_config().find(filter);
  if (it != route.typed_per_filter_config().end()) return &it->second;
  it = vh.typed_per_filter_config().find(filter);
  if (it != vh.typed_per_filter_config().end()) return &it->second;
  return nullptr;
}

void ReadFault(const google::protobuf::Any* any, Decision& decision) {
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  if (!any || !any->UnpackTo(&fault)) return;
  FaultInfo info;
  if (fault.has_delay()) {
    if (fault.delay().has_fixed_delay()) info.delay_ms = Millis(fault.delay().fixed_delay());
    info.delay_percent = fault.delay().has_percentage() ? Percent(fault.delay().percentage()) : 100;
  }
  if (fault.has_abort()) {
    if (fault.abort().error_type_case() ==
        envoy::extensions::filters::http::fault::v3::FaultAbort::kHttpStatus) {
      info.abort_http_status = fault.abort().http_status();
    } else if (fault.abort().error_type_case() ==
               envoy::extensions::filters::http::fault::v3::FaultAbort::kGrpcStatus) {
      info.abort_grpc_status = fault.abort().grpc_status();
    }
    info.abort_percent = fault.abort().has_percentage() ? Percent(fault.abort().percentage()) : 100;
  }
  decision.fault = info;
}

template <typename Cors>
CorsInfo ReadCorsFields(const Cors& cors) {
  CorsInfo info;
  for (const auto& origin : cors.allow_origin_string_match()) {
    info.allow_origins.push_back(DescribeStringMatcher(origin));
  }
  info.allow_methods = cors.allow_methods();
  info.allow_headers = cors.allow_headers();
  info.expose_headers = cors.expose_headers();
  info.max_age = cors.max_age();
  if (cors.has_allow_credentials()) info.allow_credentials = cors.allow_credentials().value();
  return info;
}

void ReadCors(const VirtualHost& vh, const Route& route, Decision& decision) {
  if (const auto* any = PerFilterConfig(vh, route, kCorsFilter)) {
    envoy::extensions::filters::http::cors::v3::CorsPolicy cors;
    if (any->UnpackTo(&cors)) decision.cors = ReadCorsFields(cors);
    return;
  }
  if (route.has_route() && route.route().has_cors()) {
    decision.cors = ReadCorsFields(route.route().cors());
  } else if (vh.has_cors()) {
    decision.cors = ReadCorsFields(vh.cors());
  }
}

void ReadRetry(const envoy::config::route::v3::RetryPolicy& policy, Decision& decision) {
  RetryInfo info;
  info.retry_on = policy.retry_on();
  if (policy.has_num_retries()) info.num_retries = policy.num_retries().value();
  if (policy.has_per_try_timeout()) info.per_try_timeout_ms = Millis(policy.per_try_timeout());
  for (const auto& p : policy.retry_host_predicate()) info.host_predicates.push_back(p.name());
  for (uint32_t code : policy.retriable_status_codes()) info.retriable_status_codes.push_back(code);
  decision.retry = info;
}

// Applies rewrites to the path the way Envoy's router does, for explanations.
std::string RewritePath(const RouteAction& action, const Request& request, size_t matched_prefix) {
  const std::string path(PathWithoutQuery(request.path));
  const std::string query = request.path.substr(path.size());
  if (!action.prefix_rewrite().empty()) {
    return action.prefix_rewrite() + path.substr(std::min(matched_prefix, path.size())) + query;
  }
  if (action.has_regex_rewrite()) {
    std::string out = path;
    RE2 re(action.regex_rewrite().pattern().regex(), RE2::Quiet);
    if (re.ok()) RE2::GlobalReplace(&out, re, action.regex_rewrite().substitution());
    return out + query;
  }
  return "";
}

void ReadRouteAction(const VirtualHost& vh, const Route& route, const Request& request,
                     size_t matched_prefix, Decision& decision) {
  const RouteAction& action = route.route();
  switch (action.cluster_specifier_case()) {
    case RouteAction::kCluster:
      decision.outcome = Decision::Outcome::kCluster;
      decision.cluster = action.cluster();
      break;
    case RouteAction::kWeightedClusters: {
      decision.outcome = Decision::Outcome::kWeightedClusters;
      uint64_t total = 0;
      for (const auto& c : action.weighted_clusters().clusters()) total += c.weight().value();
      for (const auto& c : action.weighted_clusters().clusters()) {
        WeightedTarget t;
        t.cluster = c.name();
        t.weight = c.weight().value();
        t.percent = total == 0 ? 0 : 100.0 * t.weight / static_cast<double>(total);
        decision.weighted_clusters.push_back(t);
        AddHeaderOptions(c.request_headers_to_add(), c.request_headers_to_remove(), c.name(),
                         decision.request_headers);
        AddHeaderOptions(c.response_headers_to_add(), c.response_headers_to_remove(), c.name(),
                         decision.response_headers);
      }
      break;
    }
    case RouteAction::kClusterHeader: {
      decision.outcome = Decision::Outcome::kCluster;
      auto value = request.Header(action.cluster_header());
      decision.cluster = value.value_or("");
      decision.notes.push_back("cluster taken from header " + action.cluster_header());
      break;
    }
    default:
      decision.outcome = Decision::Outcome::kCluster;
      decision.notes.push_back("unsupported cluster specifier");
  }
  if (action.has_timeout()) decision.timeout_ms = Millis(action.timeout());
  if (action.has_retry_policy()) {
    ReadRetry(action.retry_policy(), decision);
  } else if (vh.has_retry_policy()) {
    ReadRetry(vh.retry_policy(), decision);
  }
  const auto& mirrors = action.request_mirror_policies().empty() ? vh.request_mirror_policies()
                                                                  : action.request_mirror_policies();
  for (const auto& m : mirrors) {
    MirrorInfo info;
    info.cluster = m.cluster();
    if (m.has_runtime_fraction()) info.percent = Percent(m.runtime_fraction().default_value());
    decision.mirrors.push_back(info);
  }
  decision.prefix_rewrite = action.prefix_rewrite();
  if (action.has_regex_rewrite()) {
    decision.regex_rewrite =
        action.regex_rewrite().pattern().regex() + " -> " + action.regex_rewrite().substitution();
  }
  if (action.host_rewrite_specifier_case() == RouteAction::kHostRewriteLiteral) {
    decision.host_rewrite = action.host_rewrite_literal();
  }
  decision.rewritten_path = RewritePath(action, request, matched_prefix);
}

}  // namespace

ConfigRef ParseConfigRef(const std::string& raw) {
  ConfigRef ref;
  ref.raw = raw;
  // /apis/GROUP/VERSION/namespaces/NS/KIND/NAME
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t slash = raw.find('/', start);
    if (slash == std::string::npos) slash = raw.size();
    if (slash > start) parts.push_back(raw.substr(start, slash - start));
    start = slash + 1;
  }
  for (size_t i = 0; i + 3 < parts.size(); ++i) {
    if (parts[i] == "namespaces") {
      ref.ns = parts[i + 1];
      ref.kind = parts[i + 2];
      ref.name = parts[i + 3];
      break;
    }
  }
  return ref;
}

std::string RedirectLocation(const RedirectAction& redirect, const Request& request,
                             size_t matched_prefix) {
  std::string scheme = request.scheme;
  if (!redirect.scheme_redirect().empty()) {
    scheme = redirect.scheme_redirect();
  } else if (redirect.https_redirect()) {
    scheme = "https";
  }
  const std::string port = redirect.port_redirect() ? ":" + std::to_string(redirect.port_redirect()) : "";
  std::string host;
  if (!redirect.host_redirect().empty()) {
    host = redirect.host_redirect();
  } else {
    // The request's host keeps its port unless a new port is given or the scheme change makes
    // the old default port wrong.
    const std::string authority = request.Authority();
    const std::string bare(StripPort(authority));
    const std::string old_port = authority.substr(bare.size());
    if (!port.empty() || (scheme == "https" && old_port == ":80") ||
        (scheme == "http" && old_port == ":443")) {
      host = bare;
    } else {
      host = authority;
    }
  }
  const std::string path(PathWithoutQuery(request.path));
  std::string query = request.path.substr(path.size());
  std::string new_path = path;
  switch (redirect.path_rewrite_specifier_case()) {
    case RedirectAction::kPathRedirect: {
      new_path = redirect.path_redirect();
      size_t q = new_path.find('?');
      if (q != std::string::npos) {  // a query in path_redirect replaces the request's
        query = new_path.substr(q);
        new_path = new_path.substr(0, q);
      }
      break;
    }
    case RedirectAction::kPrefixRewrite:
      new_path = redirect.prefix_rewrite() + path.substr(std::min(matched_prefix, path.size()));
      break;
    case RedirectAction::kRegexRewrite: {
      RE2 re(redirect.regex_rewrite().pattern().regex(), RE2::Quiet);
      if (re.ok()) RE2::GlobalReplace(&new_path, re, redirect.regex_rewrite().substitution());
      break;
    }
    default:
      break;
  }
  if (redirect.strip_query()) query.clear();
  return scheme + "://" + host + port + new_path + query;
}

void ApplyRoute(const VirtualHost& vh, const Route& route, const Request& request,
                size_t matched_prefix, Decision& decision) {
  decision.route_name = route.name();
  decision.route_match = DescribeRouteMatch(route.match());
  auto istio = route.metadata().filter_metadata().find("istio");
  if (istio != route.metadata().filter_metadata().end()) {
    auto config = istio->second.fields().find("config");
    if (config != istio->second.fields().end() && config->second.has_string_value()) {
      decision.config = ParseConfigRef(config->second.string_value());
    }
  }
  switch (route.action_case()) {
    case Route::kRoute:
      ReadRouteAction(vh, route, request, matched_prefix, decision);
      break;
    case Route::kRedirect:
      decision.outcome = Decision::Outcome::kRedirect;
      decision.redirect_code = RedirectCode(route.redirect().response_code());
      decision.redirect_location = RedirectLocation(route.redirect(), request, matched_prefix);
      break;
    case Route::kDirectResponse: {
      decision.outcome = Decision::Outcome::kDirectResponse;
      decision.direct_status = route.direct_response().status();
      const auto& body = route.direct_response().body();
      decision.direct_body = body.has_inline_string() ? body.inline_string() : body.inline_bytes();
      break;
    }
    default:
      decision.outcome = Decision::Outcome::kNoRoute;
      decision.notes.push_back("route has an action the simulator does not model");
  }
  ReadFault(PerFilterConfig(vh, route, kFaultFilter), decision);
  ReadCors(vh, route, decision);
  // Envoy applies the route's header operations, then the virtual host's (most specific first).
  AddHeaderOptions(route.request_headers_to_add(), route.request_headers_to_remove(), "route",
                   decision.request_headers);
  AddHeaderOptions(vh.request_headers_to_add(), vh.request_headers_to_remove(), "virtual host",
                   decision.request_headers);
  AddHeaderOptions(route.response_headers_to_add(), route.response_headers_to_remove(), "route",
                   decision.response_headers);
  AddHeaderOptions(vh.response_headers_to_add(), vh.response_headers_to_remove(), "virtual host",
                   decision.response_headers);
}

}  // namespace cmesh::simulator
