// HTTP route validation with Istio's semantics (pilot's validateHTTPRoute): matches, exactly one
// action, conflicts, header operations, fault, retries, mirrors, CORS.
#include <cctype>
#include <set>

#include "route_checks.h"

namespace cmesh::model::internal {
namespace {

// Header names Istio matches on or rewrites: HTTP tokens. Matches may also name a JWT claim
// ("@request.auth.claims.groups"), which Istio routes on.
bool IsValidHeaderName(std::string_view name, bool allow_jwt_claim) {
  if (allow_jwt_claim && name.rfind("@request.auth.claims.", 0) == 0 &&
      name.size() > sizeof("@request.auth.claims.") - 1) {
    return true;
  }
  return IsHttpToken(name);
}

void CheckHeaderName(Problems& p, const std::string& field, std::string_view name,
                     bool allow_jwt_claim) {
  if (name.empty()) {
    p.Invalid(field, "header name must not be empty");
  } else if (!IsValidHeaderName(name, allow_jwt_claim)) {
    p.Invalid(field, Quote(name) + ": not a valid HTTP header name");
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsAuthorityHeader(std::string_view name) {
  return EqualsIgnoreCase(name, ":authority") || EqualsIgnoreCase(name, "host");
}

// Header operations may not touch pseudo-headers or Host, which Envoy owns; only request
// set/add may rewrite the authority (`allow_authority`).
void CheckHeaderOperationName(Problems& p, const std::string& field, std::string_view name,
                              bool allow_authority) {
  if (allow_authority && IsAuthorityHeader(name)) return;
  if (!name.empty() && (name.front() == ':' || EqualsIgnoreCase(name, "host"))) {
    p.Invalid(field, Quote(name) + ": pseudo-headers and host cannot be modified");
    return;
  }
  CheckHeaderName(p, field, name, false);
}

// Regexes must compile with RE2. An empty prefix is rejected everywhere but in `uri`, as Istio
// does: Envoy accepts an empty path prefix, not an empty string-matcher prefix.
void CheckStringMatch(Problems& p, const std::string& field, const StringMatch& m,
                      bool reject_empty_prefix) {
  switch (m.kind) {
    case StringMatch::Kind::kPrefix:
      if (reject_empty_prefix && m.value.empty()) {
        p.Invalid(field + ".prefix", "prefix string match must not be empty");
      }
      break;
    case StringMatch::Kind::kRegex:
      if (m.value.empty()) {
        p.Invalid(field + ".regex", "regex string match must not be empty");
      } else if (m.value.size() > 1024) {
        p.Invalid(field + ".regex", "regex is too large, max length allowed is 1024");
      } else if (auto e = internal::RegexError(m.value)) {
        p.Invalid(field + ".regex", Quote(m.value) + ": invalid regex (RE2 syntax): " + *e);
      }
      break;
    default:
      break;
  }
}

void CheckHeaderOperations(Problems& p, const std::string& field, const HeaderOperations& ops,
                           bool request) {
  for (const auto& [name, value] : ops.set) {
    CheckHeaderOperationName(p, field + ".set[" + name + "]", name, request);
  }
  for (const auto& [name, value] : ops.add) {
    CheckHeaderOperationName(p, field + ".add[" + name + "]", name, request);
  }
  for (size_t i = 0; i < ops.remove.size(); ++i) {
    CheckHeaderOperationName(p, Idx(field + ".remove", i), ops.remove[i], false);
  }
}

void CheckHeaders(Problems& p, const std::string& field, const Headers& h) {
  CheckHeaderOperations(p, field + ".request", h.request, true);
  CheckHeaderOperations(p, field + ".response", h.response, false);
}

bool IsJwtClaimHeader(std::string_view name) {
  return name.rfind("@request.auth.claims.", 0) == 0;
}

void CheckMatch(Problems& p, const std::string& field, const HTTPMatchRequest& m,
                bool applies_to_gateway) {
  if (m.uri) CheckStringMatch(p, field + ".uri", *m.uri, false);
  if (m.scheme) CheckStringMatch(p, field + ".scheme", *m.scheme, true);
  if (m.method) CheckStringMatch(p, field + ".method", *m.method, true);
  if (m.authority) CheckStringMatch(p, field + ".authority", *m.authority, true);
  auto check_headers = [&](const char* key, const std::map<std::string, StringMatch>& map,
                           bool without) {
    for (const auto& [name, sm] : map) {
      std::string f = field + "." + key + "[" + name + "]";
      CheckHeaderName(p, f, name, true);
      if (IsJwtClaimHeader(name) && !applies_to_gateway) {
        p.Invalid(f, "JWT claim based routing is only supported for gateways");
      }
      // In withoutHeaders, regex "*" is not RE2: Istio reads it as "header present".
      if (!(without && sm.kind == StringMatch::Kind::kRegex && sm.value == "*")) {
        CheckStringMatch(p, f, sm, true);
      }
    }
  };
  check_headers("headers", m.headers, false);
  check_headers("withoutHeaders", m.without_headers, true);
  for (const auto& [name, sm] : m.query_params) {
    CheckStringMatch(p, field + ".queryParams[" + name + "]", sm, true);
  }
  if (m.port) CheckPort(p, field + ".port", *m.port);
  internal::ValidateLabels(p, field + ".sourceLabels", m.source_labels);
  for (size_t i = 0; i < m.gateways.size(); ++i) {
    CheckGatewayName(p, Idx(field + ".gateways", i), m.gateways[i]);
  }
  if (!m.source_namespace.empty() && !internal::IsDns1123Label(m.source_namespace)) {
    p.Invalid(field + ".sourceNamespace",
              Quote(m.source_namespace) + ": must be a namespace name (DNS-1123 label)");
  }
}

bool IsGrpcStatus(std::string_view s) {
  static const std::set<std::string_view> kCodes = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  return kCodes.count(s) > 0;
}

void CheckFault(Problems& p, const std::string& field, const HTTPFaultInjection& f) {
  if (!f.delay && !f.abort) {
    p.Required(field, "fault injection needs an abort and/or a delay");
  }
  if (f.delay) {
    std::string d = field + ".delay";
    // Istio accepts a delay without fixedDelay; it injects nothing, so say so.
    if (!f.delay->fixed_delay) {
      p.Warn(d + ".fixedDelay", "a delay without fixedDelay injects no delay");
    } else {
      CheckDuration(p, d + ".fixedDelay", f.delay->fixed_delay);
    }
    CheckPercent(p, d + ".percentage.value", f.delay->percentage);
    if (f.delay->percent && (*f.delay->percent < 0 || *f.delay->percent > 100)) {
      p.Invalid(d + ".percent",
                std::to_string(*f.delay->percent) + ": percentage must be between 0 and 100");
    }
  }
  if (f.abort) {
    std::string a = field + ".abort";
    if (!f.abort->http_status && f.abort->grpc_status.empty()) {
      p.Warn(a, "abort configured, but neither httpStatus nor grpcStatus is set");
    }
    if (f.abort->http_status && !f.abort->grpc_status.empty()) {
      p.Invalid(a, "only one of httpStatus or grpcStatus may be set");
    }
    if (f.abort->http_status && (*f.abort->http_status < 200 || *f.abort->http_status > 599)) {
      p.Invalid(a + ".httpStatus", std::to_string(*f.abort->http_status) +
                                       ": abort HTTP status must be between 200 and 599");
    }
    if (!f.abort->grpc_status.empty() && !IsGrpcStatus(f.abort->grpc_status)) {
      p.Invalid(a + ".grpcStatus", Quote(f.abort->grpc_status) + ": not a gRPC status code name");
    }
    CheckPercent(p, a + ".percentage.value", f.abort->percentage);
  }
}

void CheckRetries(Problems& p, const std::string& field, const HTTPRetry& r) {
  if (r.attempts < 0) {
    p.Invalid(field + ".attempts", std::to_string(r.attempts) + ": attempts must not be negative");
  }
  if (r.attempts == 0 && (r.per_try_timeout || !r.retry_on.empty() || r.retry_remote_localities)) {
    p.Invalid(field, "retry policy configured while attempts is 0 (retries disabled)");
  }
  CheckDuration(p, field + ".perTryTimeout", r.per_try_timeout);
  static const std::set<std::string_view> kPolicies = {
      "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
      "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
      "retriable-headers", "http3-post-connect-failure", "cancelled", "deadline-exceeded",
      "internal", "resource-exhausted", "unavailable"};
  size_t start = 0;
  const std::string& s = r.retry_on;
  while (!s.empty() && start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    bool numeric = !item.empty() && item.size() == 3 &&
                   item.find_first_not_of("0123456789") == std::string::npos;
    if (!kPolicies.count(item) && !(numeric && item >= "100" && item <= "599")) {
      p.Invalid(field + ".retryOn", Quote(item) + ": not a valid retryOn policy");
    }
    start = comma + 1;
  }
}

void CheckCors(Problems& p, const std::string& field, const CorsPolicy& c) {
  for (size_t i = 0; i < c.allow_origins.size(); ++i) {
    const StringMatch& o = c.allow_origins[i];
    if (o.value.empty()) {
      p.Invalid(Idx(field + ".allowOrigins", i), "an origin match must not be empty");
    } else {
      CheckStringMatch(p, Idx(field + ".allowOrigins", i), o, false);
    }
  }
  static const std::set<std::string_view> kMethods = {"GET",     "HEAD",    "POST",
                                                      "PUT",     "DELETE",  "CONNECT",
                                                      "OPTIONS", "TRACE",   "PATCH"};
  for (size_t i = 0; i < c.allow_methods.size(); ++i) {
    if (!kMethods.count(c.allow_methods[i])) {
      p.Invalid(Idx(field + ".allowMethods", i),
                Quote(c.allow_methods[i]) + ": not a supported HTTP method");
    }
  }
  auto names = [&](const char* key, const std::vector<std::string>& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i] != "*") CheckHeaderName(p, Idx(field + "." + key, i), list[i], false);
    }
  };
  names("allowHeaders", c.allow_headers);
  names("exposeHeaders", c.expose_headers);
  if (c.max_age) {
    CheckDuration(p, field + ".maxAge", c.max_age);
    if (c.max_age->nanos % 1000000000 != 0) {
      p.Invalid(field + ".maxAge", "maxAge is only accurate to whole seconds");
    }
  }
}

}  // namespace

void CheckHttpRoute(Problems& p, const std::string& field, const HTTPRoute& h,
                    bool applies_to_gateway) {
  for (size_t i = 0; i < h.match.size(); ++i) {
    CheckMatch(p, Idx(field + ".match", i), h.match[i], applies_to_gateway);
  }

  // Exactly one action: route, redirect, directResponse or delegate.
  int actions = (!h.route.empty() ? 1 : 0) + (h.redirect ? 1 : 0) + (h.direct_response ? 1 : 0) +
                (h.delegate ? 1 : 0);
  if (actions == 0) {
    p.Required(field, "an HTTP route needs one of route, redirect, directResponse or delegate");
  } else if (actions > 1) {
    p.Invalid(field, "an HTTP route may have only one of route, redirect, directResponse or "
                     "delegate");
  }
  if (h.redirect && h.rewrite) {
    p.Invalid(field + ".rewrite", "an HTTP route cannot have both rewrite and redirect");
  }
  if (h.redirect && h.fault) {
    p.Invalid(field + ".fault", "an HTTP route cannot have both fault and redirect");
  }
  if (h.direct_response && h.rewrite) {
    p.Invalid(field + ".rewrite", "an HTTP route cannot have both rewrite and directResponse");
  }
  if (h.direct_response && h.fault) {
    p.Invalid(field + ".fault", "an HTTP route cannot have both fault and directResponse");
  }

  for (size_t i = 0; i < h.route.size(); ++i) {
    std::string f = Idx(field + ".route", i);
    CheckDestination(p, f + ".destination", h.route[i].destination);
    CheckHeaders(p, f + ".headers", h.route[i].headers);
  }
  CheckWeights(p, field + ".route", h.route);

  if (h.redirect) {
    const HTTPRedirect& r = *h.redirect;
    std::string f = field + ".redirect";
    if (r.uri.empty() && r.authority.empty() && r.scheme.empty() && !r.port &&
        !r.derive_port_from_request) {
      p.Required(f, "a redirect needs uri, authority, scheme or port");
    }
    if (r.redirect_code < 300 || r.redirect_code > 399) {
      p.Invalid(f + ".redirectCode",
                std::to_string(r.redirect_code) + ": redirect code must be 3xx");
    }
    if (r.port) CheckPort(p, f + ".port", *r.port);
    if (r.port && r.derive_port_from_request) {
      p.Invalid(f, "only one of port or derivePort may be set");
    }
    if (!r.scheme.empty() && r.scheme != "http" && r.scheme != "https") {
      p.Invalid(f + ".scheme", Quote(r.scheme) + ": scheme must be http or https");
    }
  }
  if (h.direct_response) {
    uint32_t s = h.direct_response->status;
    if (s < 200 || s > 599) {
      p.Invalid(field + ".directResponse.status",
                std::to_string(s) + ": status must be between 200 and 599");
    }
    const auto& body = h.direct_response->body;
    if (body && body->size() > 1024 * 1024) {
      p.Invalid(field + ".directResponse.body", "a direct response body must be less than 1MB");
    } else if (body && body->size() > 100 * 1024) {
      p.Warn(field + ".directResponse.body", "large direct responses may slow the control plane");
    }
  }
  if (h.delegate && h.delegate->name.empty()) {
    p.Required(field + ".delegate.name", "a delegate needs a name");
  }
  if (h.rewrite) {
    std::string f = field + ".rewrite";
    if (!h.rewrite->uri.empty() && h.rewrite->uri_regex_rewrite) {
      p.Invalid(f, "only one of uri or uriRegexRewrite may be set");
    }
    if (h.rewrite->uri.empty() && !h.rewrite->uri_regex_rewrite && h.rewrite->authority.empty()) {
      p.Required(f, "a rewrite needs uri, uriRegexRewrite or authority");
    }
    if (h.rewrite->uri_regex_rewrite) {
      const RegexRewrite& rr = *h.rewrite->uri_regex_rewrite;
      if (rr.rewrite.empty()) {
        p.Required(f + ".uriRegexRewrite.rewrite", "a regex rewrite needs both match and rewrite");
      }
      if (rr.match.empty()) {
        p.Required(f + ".uriRegexRewrite.match", "a regex rewrite needs both match and rewrite");
      } else if (auto e = internal::RegexError(rr.match)) {
        p.Invalid(f + ".uriRegexRewrite.match", Quote(rr.match) + ": invalid regex: " + *e);
      }
    }
    if (!h.rewrite->authority.empty() && h.rewrite->authority.find('/') != std::string::npos) {
      p.Invalid(f + ".authority", Quote(h.rewrite->authority) + ": not a valid authority");
    }
  }
  // The authority may be rewritten in one place only.
  int authority_rewrites = (h.rewrite && !h.rewrite->authority.empty()) ? 1 : 0;
  for (const auto* ops : {&h.headers.request.set, &h.headers.request.add}) {
    for (const auto& [name, value] : *ops) {
      if (IsAuthorityHeader(name)) ++authority_rewrites;
    }
  }
  if (authority_rewrites > 1) {
    p.Invalid(field + ".headers.request", "the authority header cannot be set multiple times");
  }
  CheckDuration(p, field + ".timeout", h.timeout);
  if (h.retries) CheckRetries(p, field + ".retries", *h.retries);
  if (h.fault) CheckFault(p, field + ".fault", *h.fault);
  if (h.mirror) CheckDestination(p, field + ".mirror", *h.mirror);
  CheckPercent(p, field + ".mirrorPercentage.value", h.mirror_percentage);
  if (h.mirror && !h.mirrors.empty()) {
    p.Invalid(field + ".mirrors", "only one of mirror or mirrors may be set");
  }
  for (size_t i = 0; i < h.mirrors.size(); ++i) {
    std::string f = Idx(field + ".mirrors", i);
    CheckDestination(p, f + ".destination", h.mirrors[i].destination);
    CheckPercent(p, f + ".percentage.value", h.mirrors[i].percentage);
  }
  if (h.cors_policy) CheckCors(p, field + ".corsPolicy", *h.cors_policy);
  CheckHeaders(p, field + ".headers", h.headers);
}

}  // namespace cmesh::model::internal
