#include "matchers.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <vector>

// Envoy still honours the deprecated header matcher fields (exact_match, prefix_match, ...), and
// configurations in the wild use them, so the simulator reads them.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cmesh::simulator {
namespace {

using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::QueryParameterMatcher;
using envoy::config::route::v3::RouteMatch;
using envoy::type::matcher::v3::StringMatcher;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix, bool ignore_case) {
  if (s.size() < prefix.size()) return false;
  if (!ignore_case) return s.substr(0, prefix.size()) == prefix;
  return Lower(s.substr(0, prefix.size())) == Lower(prefix);
}

bool EndsWith(std::string_view s, std::string_view suffix, bool ignore_case) {
  if (s.size() < suffix.size()) return false;
  std::string_view tail = s.substr(s.size() - suffix.size());
  return ignore_case ? Lower(tail) == Lower(suffix) : tail == suffix;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Envoy percent-decodes query parameter names and values ('+' stays '+').
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// The first value of query parameter `name`, as Envoy's getFirstValue returns it.
std::optional<std::string> FirstQueryValue(std::string_view path, std::string_view name) {
  size_t q = path.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq));
    if (key != name) continue;
    return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::string DescribeHeaderMatcher(const HeaderMatcher& m) {
  std::string out = "header " + m.name();
  if (m.invert_match()) out = "NOT " + out;
  switch (m.header_match_specifier_case()) {
    case HeaderMatcher::kExactMatch:
      out += " exact " + m.exact_match();
      break;
    case HeaderMatcher::kSafeRegexMatch:
      out += " regex " + m.safe_regex_match().regex();
      break;
    case HeaderMatcher::kPrefixMatch:
      out += " prefix " + m.prefix_match();
      break;
    case HeaderMatcher::kSuffixMatch:
      out += " suffix " + m.suffix_match();
      break;
    case HeaderMatcher::kContainsMatch:
      out += " contains " + m.contains_match();
      break;
    case HeaderMatcher::kPresentMatch:
      out += m.present_match() ? " present" : " absent";
      break;
    case HeaderMatcher::kRangeMatch:
      out += " in [" + std::to_string(m.range_match().start()) + ", " +
             std::to_string(m.range_match().end()) + ")";
      break;
    case HeaderMatcher::kStringMatch:
      out += " " + DescribeStringMatcher(m.string_match());
      break;
    case HeaderMatcher::HEADER_MATCH_SPECIFIER_NOT_SET:
      out += " present";
      break;
  }
  if (m.treat_missing_header_as_empty()) out += " (missing as empty)";
  return out;
}

}  // namespace

bool RegexFullMatch(const std::string& regex, std::string_view value) {
  RE2 re(regex, RE2::Quiet);
  if (!re.ok()) return false;
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
}

bool MatchString(const StringMatcher& m, std::string_view value) {
  const bool ic = m.ignore_case();
  switch (m.match_pattern_case()) {
    case StringMatcher::kExact:
      return ic ? Lower(value) == Lower(m.exact()) : value == m.exact();
    case StringMatcher::kPrefix:
      return StartsWith(value, m.prefix(), ic);
    case StringMatcher::kSuffix:
      return EndsWith(value, m.suffix(), ic);
    case StringMatcher::kContains:
      return ic ? Lower(value).find(Lower(m.contains())) != std::string::npos
                : value.find(m.contains()) != std::string_view::npos;
    case StringMatcher::kSafeRegex:  // ignore_case does not apply to regexes in Envoy
      return RegexFullMatch(m.safe_regex().regex(), value);
    case StringMatcher::kCustom:
    case StringMatcher::MATCH_PATTERN_NOT_SET:
      return false;
  }
  return false;
}

// Envoy's HeaderUtility::matchHeaders: a missing header (unless treated as empty) only satisfies
// a presence matcher; every other matcher, inverted or not, fails on it.
bool MatchHeader(const HeaderMatcher& m, const Request& request) {
  std::optional<std::string> value = request.Header(Lower(m.name()));
  const bool is_present_kind =
      m.header_match_specifier_case() == HeaderMatcher::kPresentMatch;
  if (!value && !m.treat_missing_header_as_empty()) {
    if (m.invert_match()) return is_present_kind && m.present_match();
    return is_present_kind && !m.present_match();
  }
  const std::string v = value.value_or("");
  bool match = false;
  switch (m.header_match_specifier_case()) {
    case HeaderMatcher::kExactMatch:
      match = m.exact_match().empty() || v == m.exact_match();
      break;
    case HeaderMatcher::kSafeRegexMatch:
      match = RegexFullMatch(m.safe_regex_match().regex(), v);
      break;
    case HeaderMatcher::kRangeMatch: {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      match = !v.empty() && end && *end == '\0' && n >= m.range_match().start() &&
              n < m.range_match().end();
      break;
    }
    case HeaderMatcher::kPresentMatch:
      match = m.present_match();
      break;
    case HeaderMatcher::kPrefixMatch:
      match = StartsWith(v, m.prefix_match(), false);
      break;
    case HeaderMatcher::kSuffixMatch:
      match = EndsWith(v, m.suffix_match(), false);
      break;
    case HeaderMatcher::kContainsMatch:
      match = v.find(m.contains_match()) != std::string::npos;
      break;
    case HeaderMatcher::kStringMatch:
      match = MatchString(m.string_match(), v);
      break;
    case HeaderMatcher::HEADER_MATCH_SPECIFIER_NOT_SET:
      match = true;  // an empty value matcher: presence
      break;
  }
  return match != m.invert_match();
}

bool MatchQueryParameter(const QueryParameterMatcher& m, std::string_view path) {
  std::optional<std::string> value = FirstQueryValue(path, m.name());
  if (!value) return false;
  if (m.query_parameter_match_specifier_case() != QueryParameterMatcher::kStringMatch) {
    return true;  // present_match, or no matcher at all
  }
  return MatchString(m.string_match(), *value);
}

std::string_view PathWithoutQuery(std::string_view path) {
  size_t end = path.find_first_of("?#");
  return end == std::string_view::npos ? path : path.substr(0, end);
}

RouteMatchResult MatchRoute(const RouteMatch& match, const Request& request) {
  RouteMatchResult result;
  const bool case_sensitive = !match.has_case_sensitive() || match.case_sensitive().value();
  const std::string_view path = PathWithoutQuery(request.path);
  switch (match.path_specifier_case()) {
    case RouteMatch::kPrefix:
      if (!StartsWith(path, match.prefix(), !case_sensitive)) return result;
      result.matched_prefix_length = match.prefix().size();
      break;
    case RouteMatch::kPath:
      if (case_sensitive ? path != match.path() : Lower(path) != Lower(match.path())) {
        return result;
      }
      result.matched_prefix_length = path.size();
      break;
    case RouteMatch::kSafeRegex:  // case_sensitive is ignored for regexes
      if (!RegexFullMatch(match.safe_regex().regex(), path)) return result;
      result.matched_prefix_length = path.size();
      break;
    case RouteMatch::kPathSeparatedPrefix: {
      const std::string& prefix = match.path_separated_prefix();
      if (!StartsWith(path, prefix, !case_sensitive)) return result;
      if (path.size() != prefix.size() && path[prefix.size()] != '/') return result;
      result.matched_prefix_length = prefix.size();
      break;
    }
    case RouteMatch::kConnectMatcher:
      if (request.method != "CONNECT") return result;
      break;
    case RouteMatch::kPathMatchPolicy:
    case RouteMatch::PATH_SPECIFIER_NOT_SET:
      return result;  // unsupported: never matches
  }
  for (const auto& header : match.headers()) {
    if (!MatchHeader(header, request)) return result;
  }
  for (const auto& query : match.query_parameters()) {
    if (!MatchQueryParameter(query, request.path)) return result;
  }
  result.matched = true;
  return result;
}

std::string DescribeStringMatcher(const StringMatcher& m) {
  std::string out;
  switch (m.match_pattern_case()) {
    case StringMatcher::kExact:
      out = "exact " + m.exact();
      break;
    case StringMatcher::kPrefix:
      out = "prefix " + m.prefix();
      break;
    case StringMatcher::kSuffix:
      out = "suffix " + m.suffix();
      break;
    case StringMatcher::kContains:
      out = "contains " + m.contains();
      break;
    case StringMatcher::kSafeRegex:
      out = "regex " + m.safe_regex().regex();
      break;
    default:
      out = "(unsupported matcher)";
  }
  if (m.ignore_case()) out += " (ignore case)";
  return out;
}

std::string DescribeRouteMatch(const RouteMatch& match) {
  std::vector<std::string> parts;
  switch (match.path_specifier_case()) {
    case RouteMatch::kPrefix:
      parts.push_back("prefix " + match.prefix());
      break;
    case RouteMatch::kPath:
      parts.push_back("path " + match.path());
      break;
    case RouteMatch::kSafeRegex:
      parts.push_back("regex " + match.safe_regex().regex());
      break;
    case RouteMatch::kPathSeparatedPrefix:
      parts.push_back("path-separated prefix " + match.path_separated_prefix());
      break;
    default:
      parts.push_back("(unsupported path matcher)");
  }
  if (match.has_case_sensitive() && !match.case_sensitive().value()) {
    parts.back() += " (ignore case)";
  }
  for (const auto& h : match.headers()) parts.push_back(DescribeHeaderMatcher(h));
  for (const auto& q : match.query_parameters()) {
    std::string s = "query " + q.name();
    s += q.has_string_match() ? " " + DescribeStringMatcher(q.string_match()) : " present";
    parts.push_back(s);
  }
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

}  // namespace cmesh::simulator
