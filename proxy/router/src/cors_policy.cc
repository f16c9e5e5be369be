#include "cors_policy.h"

#include <vector>

#include "fault_policy.h"
#include "field_check.h"
#include "string_matcher.h"

namespace cmesh::router {

struct CorsPolicy::Origins {
  std::vector<StringMatcher> matchers;
};

bool CorsPolicy::AllowsOrigin(std::string_view origin) const {
  if (!origins) return false;
  for (const StringMatcher& m : origins->matchers) {
    if (m.Match(origin)) return true;
  }
  return false;
}

std::shared_ptr<const CorsPolicy> CompileCors(const envoy::extensions::filters::http::cors::v3::CorsPolicy& policy,
                                              const std::string& at, std::string* error) {
  // shadow_enabled only feeds statistics.
  if (!OnlyFields(policy,
                  {"allow_origin_string_match", "allow_methods", "allow_headers", "expose_headers", "max_age",
                   "allow_credentials", "filter_enabled", "shadow_enabled", "forward_not_matching_preflights",
                   "allow_private_network_access"},
                  at, error)) {
    return nullptr;
  }
  if (policy.has_allow_private_network_access() && policy.allow_private_network_access().value()) {
    *error = at + ": allow_private_network_access is not implemented";
    return nullptr;
  }
  auto out = std::make_shared<CorsPolicy>();
  auto origins = std::make_shared<CorsPolicy::Origins>();
  for (int i = 0; i < policy.allow_origin_string_match_size(); ++i) {
    auto m = StringMatcher::Compile(policy.allow_origin_string_match(i),
                                    at + ".allow_origin_string_match[" + std::to_string(i) + "]", error);
    if (!m) return nullptr;
    origins->matchers.push_back(std::move(*m));
  }
  out->origins = std::move(origins);
  out->allow_methods = policy.allow_methods();
  out->allow_headers = policy.allow_headers();
  out->expose_headers = policy.expose_headers();
  out->max_age = policy.max_age();
  if (policy.has_allow_credentials()) out->allow_credentials = policy.allow_credentials().value();
  if (policy.has_forward_not_matching_preflights()) {
    out->forward_not_matching_preflights = policy.forward_not_matching_preflights().value();
  }
  // filter_enabled's runtime key names an override; cmesh-proxy has no runtime, so its default
  // value applies (what Envoy does when the key is unset).
  if (policy.has_filter_enabled()) {
    if (!ToFraction(policy.filter_enabled().default_value(), at + ".filter_enabled", &out->enabled, error)) {
      return nullptr;
    }
  }
  return out;
}

}  // namespace cmesh::router
