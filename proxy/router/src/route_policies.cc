#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "fault_policy.h"
#include "field_check.h"
#include "route_compiler.h"

namespace cmesh::router {
namespace {

using envoy::config::route::v3::RouteAction;
using std::chrono::milliseconds;

milliseconds Millis(const google::protobuf::Duration& d) {
  return milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(d));
}

struct RetryToken {
  std::string_view name;
  std::uint32_t bit;
};
constexpr RetryToken kRetryTokens[] = {
    {"5xx", kRetryOn5xx},
    {"gateway-error", kRetryOnGatewayError},
    {"reset", kRetryOnReset},
    {"reset-before-request", kRetryOnResetBeforeRequest},
    {"connect-failure", kRetryOnConnectFailure},
    {"retriable-4xx", kRetryOnRetriable4xx},
    {"refused-stream", kRetryOnRefusedStream},
    {"retriable-status-codes", kRetryOnRetriableStatusCodes},
    {"envoy-ratelimited", kRetryOnEnvoyRateLimited},
    {"http3-post-connect-failure", kRetryOnHttp3PostConnectFailure},
    {"cancelled", kRetryOnCancelled},
    {"deadline-exceeded", kRetryOnDeadlineExceeded},
    {"internal", kRetryOnInternal},
    {"resource-exhausted", kRetryOnResourceExhausted},
    {"unavailable", kRetryOnUnavailable},
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool RetryPolicy::RetriableStatus(std::uint32_t status) const {
  if (Has(kRetryOn5xx) && status >= 500 && status <= 599) return true;
  if (Has(kRetryOnGatewayError) && (status == 502 || status == 503 || status == 504)) return true;
  if (Has(kRetryOnRetriable4xx) && status == 409) return true;
  if (Has(kRetryOnRetriableStatusCodes)) {
    for (auto code : retriable_status_codes) {
      if (code == status) return true;
    }
  }
  return false;
}

bool CompileRetryPolicy(const envoy::config::route::v3::RetryPolicy& p, const std::string& at,
                        std::shared_ptr<const RetryPolicy>* out, std::string* error) {
  if (!OnlyFields(p,
                  {"retry_on", "num_retries", "per_try_timeout", "retriable_status_codes",
                   "retry_host_predicate", "host_selection_retry_max_attempts", "retry_back_off"},
                  at, error)) {
    return false;
  }
  auto policy = std::make_shared<RetryPolicy>();
  std::string_view rest = p.retry_on();
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view token = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (token.empty()) continue;
    bool known = false;
    for (const auto& t : kRetryTokens) {
      if (t.name == token) {
        policy->retry_on |= t.bit;
        known = true;
      }
    }
    if (!known) {
      *error = at + ".retry_on: unknown or unsupported condition \"" + std::string(token) + "\"";
      return false;
    }
  }
  if (p.has_num_retries()) policy->num_retries = p.num_retries().value();
  if (p.has_per_try_timeout()) {
    if (p.per_try_timeout().seconds() < 0 || p.per_try_timeout().nanos() < 0) {
      *error = at + ".per_try_timeout: a negative duration";
      return false;
    }
    policy->per_try_timeout = Millis(p.per_try_timeout());
  }
  for (auto code : p.retriable_status_codes()) {
    if (code < 100 || code > 599) {
      *error = at + ".retriable_status_codes: " + std::to_string(code) + " is not an HTTP status";
      return false;
    }
    policy->retriable_status_codes.push_back(code);
  }
  // Envoy picks the extension by the typed_config's type; both must say previous_hosts.
  constexpr std::string_view kPreviousHostsType =
      "/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate";
  for (const auto& predicate : p.retry_host_predicate()) {
    if (predicate.name() != "envoy.retry_host_predicates.previous_hosts" ||
        (predicate.has_typed_config() &&
         !std::string_view(predicate.typed_config().type_url()).ends_with(kPreviousHostsType))) {
      *error = at + ".retry_host_predicate: " + predicate.name() +
               " is not supported by cmesh-proxy (previous_hosts only)";
      return false;
    }
    policy->previous_hosts = true;
  }
  if (p.host_selection_retry_max_attempts() > 0) {
    policy->host_selection_max_attempts = static_cast<std::uint32_t>(
        std::min<std::int64_t>(p.host_selection_retry_max_attempts(), 1000));
  }
  if (p.has_retry_back_off()) {
    const auto& b = p.retry_back_off();
    if (!b.has_base_interval() || Millis(b.base_interval()).count() <= 0) {
      *error = at + ".retry_back_off.base_interval: must be set and above 0";
      return false;
    }
    policy->backoff_base = Millis(b.base_interval());
    if (b.has_max_interval()) {
      policy->backoff_max = Millis(b.max_interval());
      if (*policy->backoff_max < *policy->backoff_base) {
        *error = at + ".retry_back_off.max_interval: below base_interval";
        return false;
      }
    }
  }
  *out = std::move(policy);
  return true;
}

bool CompileMirrorPolicies(const MirrorPolicies& policies, const std::string& where,
                           std::vector<MirrorPolicy>* out, std::string* error) {
  for (int i = 0; i < policies.size(); ++i) {
    const auto& p = policies[i];
    const std::string at = where + ".request_mirror_policies[" + std::to_string(i) + "]";
    if (!OnlyFields(p, {"cluster", "runtime_fraction", "trace_sampled"}, at, error)) return false;
    if (p.cluster().empty()) {
      *error = at + ": an empty cluster name";
      return false;
    }
    MirrorPolicy m;
    m.cluster = p.cluster();
    if (p.has_runtime_fraction() &&
        !ToFraction(p.runtime_fraction().default_value(), at + ".runtime_fraction", &m.fraction,
                    error)) {
      return false;
    }
    out->push_back(std::move(m));
  }
  return true;
}

}  // namespace cmesh::router
