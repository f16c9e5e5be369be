#include "route_policies.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "previous_hosts.h"
#include "previous_priorities.h"
#include "proto_util.h"

namespace cmesh::compiler {
namespace {

using envoy::config::core::v3::HeaderValueOption;

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool AllDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

uint32_t GrpcCode(const std::string& name) {
  static const std::map<std::string, uint32_t> kCodes = {
      {"OK", 0},        {"CANCELLED", 1},          {"UNKNOWN", 2},           {"INVALID_ARGUMENT", 3},
      {"DEADLINE_EXCEEDED", 4}, {"NOT_FOUND", 5},  {"ALREADY_EXISTS", 6},    {"PERMISSION_DENIED", 7},
      {"RESOURCE_EXHAUSTED", 8}, {"FAILED_PRECONDITION", 9}, {"ABORTED", 10}, {"OUT_OF_RANGE", 11},
      {"UNIMPLEMENTED", 12}, {"INTERNAL", 13},     {"UNAVAILABLE", 14},      {"DATA_LOSS", 15},
      {"UNAUTHENTICATED", 16}};
  if (AllDigits(name)) return static_cast<uint32_t>(std::stoul(name));
  auto it = kCodes.find(name);
  return it == kCodes.end() ? 2 : it->second;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ",";
    out += s;
  }
  return out;
}

}  // namespace

void SetStringMatcher(const model::StringMatch& m, envoy::type::matcher::v3::StringMatcher* out) {
  switch (m.kind) {
    case model::StringMatch::Kind::kExact:
      out->set_exact(m.value);
      break;
    case model::StringMatch::Kind::kPrefix:
      out->set_prefix(m.value);
      break;
    case model::StringMatch::Kind::kRegex:
      out->mutable_safe_regex()->set_regex(m.value);
      break;
    case model::StringMatch::Kind::kAny:
      out->mutable_safe_regex()->set_regex(".*");
      break;
  }
}

envoy::config::route::v3::RetryPolicy DefaultRetryPolicy() {
  envoy::config::route::v3::RetryPolicy policy;
  policy.set_retry_on("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
  policy.mutable_num_retries()->set_value(2);
  policy.add_retriable_status_codes(503);
  auto* predicate = policy.add_retry_host_predicate();
  predicate->set_name("envoy.retry_host_predicates.previous_hosts");
  PackPreviousHostsPredicate(predicate->mutable_typed_config());
  policy.set_host_selection_retry_max_attempts(5);
  return policy;
}

std::optional<envoy::config::route::v3::RetryPolicy> RetryPolicyFor(const std::optional<model::HTTPRetry>& retries) {
  if (!retries) return DefaultRetryPolicy();
  if (retries->attempts <= 0) return std::nullopt;
  auto policy = DefaultRetryPolicy();
  policy.mutable_num_retries()->set_value(static_cast<uint32_t>(retries->attempts));
  if (!retries->retry_on.empty()) {
    std::vector<std::string> on;
    policy.clear_retriable_status_codes();
    std::string_view rest = retries->retry_on;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string item = Trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (item.empty()) continue;
      if (AllDigits(item)) {
        policy.add_retriable_status_codes(static_cast<uint32_t>(std::stoul(item)));
      } else {
        on.push_back(item);
      }
    }
    // Status codes only take effect with the retriable-status-codes condition.
    if (policy.retriable_status_codes_size() > 0 &&
        std::find(on.begin(), on.end(), "retriable-status-codes") == on.end()) {
      on.push_back("retriable-status-codes");
    }
    policy.set_retry_on(Join(on));
  }
  if (retries->per_try_timeout) SetDuration(*retries->per_try_timeout, policy.mutable_per_try_timeout());
  // Only an explicit true asks for it (Istio ignores false and unset alike).
  if (retries->retry_remote_localities.value_or(false)) SetPreviousPrioritiesRetry(&policy);
  return policy;
}

void SetRouteTimeout(const std::optional<model::Duration>& timeout, envoy::config::route::v3::RouteAction* action) {
  model::Duration d = timeout.value_or(model::Duration{0});
  SetDuration(d, action->mutable_timeout());
  SetDuration(d, action->mutable_max_stream_duration()->mutable_max_stream_duration());
  SetDuration(d, action->mutable_max_stream_duration()->mutable_grpc_timeout_header_max());
}

void AddRequestHeaders(const model::HeaderOperations& ops, google::protobuf::RepeatedPtrField<HeaderValueOption>* add,
                       google::protobuf::RepeatedPtrField<std::string>* remove) {
  for (const auto& [name, value] : ops.set) {
    auto* h = add->Add();
    h->mutable_header()->set_key(name);
    h->mutable_header()->set_value(value);
    h->set_append_action(HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  }
  for (const auto& [name, value] : ops.add) {
    auto* h = add->Add();
    h->mutable_header()->set_key(name);
    h->mutable_header()->set_value(value);
    h->set_append_action(HeaderValueOption::APPEND_IF_EXISTS_OR_ADD);
  }
  for (const auto& name : ops.remove) *remove->Add() = name;
}

void SetFault(const model::HTTPFaultInjection& fault, envoy::config::route::v3::Route* route) {
  envoy::extensions::filters::http::fault::v3::HTTPFault out;
  // Like Istio, a percentage is written only when given; Envoy reads an absent one as 0%, which
  // is the documented "unspecified: no request is delayed/aborted".
  if (fault.delay) {
    auto* d = out.mutable_delay();
    if (fault.delay->fixed_delay) SetDuration(*fault.delay->fixed_delay, d->mutable_fixed_delay());
    if (fault.delay->percentage) {
      SetFractionalPercent(*fault.delay->percentage, d->mutable_percentage());
    } else if (fault.delay->percent) {
      SetFractionalPercent(static_cast<double>(*fault.delay->percent), d->mutable_percentage());
    }
  }
  if (fault.abort) {
    auto* a = out.mutable_abort();
    if (fault.abort->http_status) {
      a->set_http_status(static_cast<uint32_t>(*fault.abort->http_status));
    } else if (!fault.abort->grpc_status.empty()) {
      a->set_grpc_status(GrpcCode(fault.abort->grpc_status));
    }
    if (fault.abort->percentage) SetFractionalPercent(*fault.abort->percentage, a->mutable_percentage());
  }
  (*route->mutable_typed_per_filter_config())[kFaultFilter].PackFrom(out);
}

void SetCors(const model::CorsPolicy& cors, envoy::config::route::v3::Route* route) {
  envoy::extensions::filters::http::cors::v3::CorsPolicy out;
  for (const auto& origin : cors.allow_origins) SetStringMatcher(origin, out.add_allow_origin_string_match());
  if (!cors.allow_methods.empty()) out.set_allow_methods(Join(cors.allow_methods));
  if (!cors.allow_headers.empty()) out.set_allow_headers(Join(cors.allow_headers));
  if (!cors.expose_headers.empty()) out.set_expose_headers(Join(cors.expose_headers));
  if (cors.max_age) out.set_max_age(std::to_string(cors.max_age->nanos / 1'000'000'000));
  if (cors.allow_credentials) out.mutable_allow_credentials()->set_value(*cors.allow_credentials);
  if (cors.unmatched_preflights == "FORWARD") out.mutable_forward_not_matching_preflights()->set_value(true);
  if (cors.unmatched_preflights == "IGNORE") out.mutable_forward_not_matching_preflights()->set_value(false);
  auto* enabled = out.mutable_filter_enabled()->mutable_default_value();
  enabled->set_numerator(100);
  enabled->set_denominator(envoy::type::v3::FractionalPercent::HUNDRED);
  (*route->mutable_typed_per_filter_config())[kCorsFilter].PackFrom(out);
}

void SetRedirect(const model::HTTPRedirect& redirect, uint32_t listener_port, envoy::config::route::v3::Route* route,
                 const std::string& context, std::vector<std::string>* warnings) {
  using R = envoy::config::route::v3::RedirectAction;
  auto* out = route->mutable_redirect();
  if (!redirect.uri.empty()) out->set_path_redirect(redirect.uri);
  if (!redirect.authority.empty()) out->set_host_redirect(redirect.authority);
  if (!redirect.scheme.empty()) out->set_scheme_redirect(redirect.scheme);
  // Istio's ApplyRedirect: Envoy cannot derive the port from the request, but routes are always
  // built for one listener port, which is the request's port: FROM_REQUEST_PORT is that port.
  // FROM_PROTOCOL_DEFAULT (and no port at all) leaves port_redirect unset, which makes Envoy
  // drop the port. An explicit or derived port that is the scheme's default (80 for http,
  // 443 for https; sidecar listeners are plaintext, so http when no scheme is given) is
  // dropped too, so Location never carries ":80"/":443".
  if (redirect.port || redirect.derive_port_from_request) {
    uint32_t port = redirect.port ? *redirect.port : listener_port;
    const std::string scheme = redirect.scheme.empty() ? "http" : redirect.scheme;
    if ((port == 80 && scheme == "http") || (port == 443 && scheme == "https")) port = 0;
    if (port != 0) out->set_port_redirect(port);
  }
  switch (redirect.redirect_code) {
    case 0:
    case 301:
      out->set_response_code(R::MOVED_PERMANENTLY);
      break;
    case 302:
      out->set_response_code(R::FOUND);
      break;
    case 303:
      out->set_response_code(R::SEE_OTHER);
      break;
    case 307:
      out->set_response_code(R::TEMPORARY_REDIRECT);
      break;
    case 308:
      out->set_response_code(R::PERMANENT_REDIRECT);
      break;
    default:
      warnings->push_back(context + ": redirect code " + std::to_string(redirect.redirect_code) +
                          " is not supported by Envoy; using 301");
      out->set_response_code(R::MOVED_PERMANENTLY);
  }
}

void SetDirectResponse(const model::HTTPDirectResponse& response, envoy::config::route::v3::Route* route) {
  auto* out = route->mutable_direct_response();
  out->set_status(response.status);
  if (response.body) out->mutable_body()->set_inline_string(*response.body);
}

}  // namespace cmesh::compiler
