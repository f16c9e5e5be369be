// Compiled route matching: the path specifier, header matchers and query parameter matchers of an
// Envoy RouteMatch, evaluated against a RequestView.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/router/request_view.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "string_matcher.h"

namespace cmesh::router {

// The value Envoy's header matchers see for `lower_name`: pseudo-headers from the view, a header
// present several times as its values joined with ",". `scratch` holds a joined value.
std::optional<std::string_view> HeaderValue(const RequestView& request, std::string_view lower_name,
                                            std::string& scratch);

// The path without query string and fragment, as routes match it.
std::string_view PathWithoutQuery(std::string_view path);

class HeaderMatcher {
 public:
  static std::optional<HeaderMatcher> Compile(const envoy::config::route::v3::HeaderMatcher& m,
                                              const std::string& where, std::string* error);
  bool Match(const RequestView& request) const;

 private:
  enum class Kind { kValue, kPresent, kRange };
  std::string name_;  // lower case
  Kind kind_ = Kind::kPresent;
  std::optional<StringMatcher> value_;
  bool present_ = true;
  std::int64_t range_start_ = 0, range_end_ = 0;
  bool invert_ = false;
  bool treat_missing_as_empty_ = false;
};

class QueryParameterMatcher {
 public:
  static std::optional<QueryParameterMatcher> Compile(
      const envoy::config::route::v3::QueryParameterMatcher& m, const std::string& where,
      std::string* error);
  bool Match(std::string_view path) const;

 private:
  std::string name_;
  std::optional<StringMatcher> value_;  // none: a presence check
  std::optional<bool> present_;
};

class RouteMatcher {
 public:
  static std::optional<RouteMatcher> Compile(const envoy::config::route::v3::RouteMatch& m,
                                             const std::string& where, std::string* error);
  // Whether the request matches; `*matched_length` is the length of the path that the path
  // specifier consumed (what prefix_rewrite replaces).
  bool Match(const RequestView& request, std::size_t* matched_length) const;

 private:
  enum class PathKind { kPrefix, kPath, kRegex, kSeparatedPrefix };
  PathKind kind_ = PathKind::kPrefix;
  std::string value_;
  bool case_sensitive_ = true;
  std::unique_ptr<RE2> regex_;
  bool grpc_ = false;
  std::vector<HeaderMatcher> headers_;
  std::vector<QueryParameterMatcher> query_;
};

}  // namespace cmesh::router
