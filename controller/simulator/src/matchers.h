// Envoy's request matchers, evaluated the way Envoy evaluates them (RE2 full match for regexes,
// header values joined with ",", missing headers never matching a value matcher).
#pragma once

#include <string>
#include <string_view>

#include "cmesh/simulator/request.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"

namespace cmesh::simulator {

// True when `regex` (RE2 syntax) matches the whole of `value`. An invalid regex matches nothing.
bool RegexFullMatch(const std::string& regex, std::string_view value);

bool MatchString(const envoy::type::matcher::v3::StringMatcher& matcher, std::string_view value);

bool MatchHeader(const envoy::config::route::v3::HeaderMatcher& matcher, const Request& request);

bool MatchQueryParameter(const envoy::config::route::v3::QueryParameterMatcher& matcher,
                         std::string_view path);

// The path without its query string and fragment, which Envoy's path matchers look at.
std::string_view PathWithoutQuery(std::string_view path);

// Result of matching a RouteMatch: whether it matched and, for prefix-like matches, how many
// characters of the path the prefix covered (for prefix_rewrite).
struct RouteMatchResult {
  bool matched = false;
  size_t matched_prefix_length = 0;
};

RouteMatchResult MatchRoute(const envoy::config::route::v3::RouteMatch& match,
                            const Request& request);

// "prefix /reviews, header end-user exact jason, query id present" — for explanations.
std::string DescribeRouteMatch(const envoy::config::route::v3::RouteMatch& match);
std::string DescribeStringMatcher(const envoy::type::matcher::v3::StringMatcher& matcher);

}  // namespace cmesh::simulator
