#include "request_matchers.h"

#include <charconv>

#include "field_check.h"

// Envoy still honours the deprecated header matcher fields (exact_match, prefix_match, ...) and
// configurations in the wild use them.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cmesh::router {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Envoy's PercentEncoding::decode: "%XY" becomes a byte, anything else (including '+') stays.
void PercentDecode(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
}

// Whether the percent-decoded `raw` equals `name`, without allocating.
bool DecodedEquals(std::string_view raw, std::string_view name) {
  size_t j = 0;
  for (size_t i = 0; i < raw.size(); ++i, ++j) {
    char c = raw[i];
    if (c == '%' && i + 2 < raw.size()) {
      int hi = HexValue(raw[i + 1]), lo = HexValue(raw[i + 2]);
      if (hi >= 0 && lo >= 0) {
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      }
    }
    if (j >= name.size() || name[j] != c) return false;
  }
  return j == name.size();
}

bool ValidHeaderName(std::string_view name) {
  // A token, or a pseudo-header (":" then a token).
  if (!name.empty() && name[0] == ':') name.remove_prefix(1);
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c == 0x7f || c == ':') return false;
  }
  return true;
}

// The raw (still percent-encoded) first value of query parameter `name` in `path`; a parameter
// without '=' has an empty value. The fragment, if any, is not part of the query.
std::optional<std::string_view> FirstQueryValue(std::string_view path, std::string_view name) {
  const size_t start = path.find('?');
  if (start == std::string_view::npos) return std::nullopt;
  const std::string_view query = path.substr(start + 1, path.find('#', start) - start - 1);
  for (size_t begin = 0; begin <= query.size();) {
    size_t end = query.find('&', begin);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view param = query.substr(begin, end - begin);
    begin = end + 1;
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    if (param.empty() || !DecodedEquals(key, name)) continue;
    return eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
  }
  return std::nullopt;
}

}  // namespace

std::string_view PathWithoutQuery(std::string_view path) {
  size_t end = path.find_first_of("?#");
  return end == std::string_view::npos ? path : path.substr(0, end);
}

std::optional<std::string_view> HeaderValue(const RequestView& request, std::string_view lower_name,
                                            std::string& scratch) {
  if (!lower_name.empty() && lower_name[0] == ':') {
    if (lower_name == ":method") return request.method;
    if (lower_name == ":path") return request.path;
    if (lower_name == ":authority") return request.authority;
    if (lower_name == ":scheme") return request.scheme;
    return std::nullopt;
  }
  if (lower_name == "host") return std::nullopt;  // Envoy keeps HTTP/1's Host as :authority
  std::optional<std::string_view> first;
  bool joined = false;
  for (const auto& header : request.headers) {
    if (!http1::EqualsIgnoreCase(header.name, lower_name)) continue;
    if (!first) {
      first = header.value;
      continue;
    }
    if (!joined) {  // only a repeated header costs an allocation
      scratch.assign(first->data(), first->size());
      joined = true;
    }
    scratch += ',';
    scratch.append(header.value.data(), header.value.size());
  }
  if (joined) return std::string_view(scratch);
  return first;
}

std::optional<HeaderMatcher> HeaderMatcher::Compile(
    const envoy::config::route::v3::HeaderMatcher& m, const std::string& where,
    std::string* error) {
  using H = envoy::config::route::v3::HeaderMatcher;
  const std::string at = where + ": header matcher \"" + m.name() + "\"";
  if (!OnlyFields(m,
                  {"name", "exact_match", "safe_regex_match", "range_match", "present_match",
                   "prefix_match", "suffix_match", "contains_match", "string_match",
                   "invert_match", "treat_missing_header_as_empty"},
                  at, error)) {
    return std::nullopt;
  }
  if (!ValidHeaderName(m.name())) {
    *error = at + ": invalid header name";
    return std::nullopt;
  }
  HeaderMatcher out;
  out.name_ = ToLower(m.name());
  out.invert_ = m.invert_match();
  out.treat_missing_as_empty_ = m.treat_missing_header_as_empty();
  auto literal = [&](StringMatcher::Kind kind, const std::string& p) -> bool {
    if (p.empty()) {
      *error = at + ": an empty prefix, suffix or contains pattern";
      return false;
    }
    out.kind_ = Kind::kValue;
    out.value_ = StringMatcher::Literal(kind, p, false);
    return true;
  };
  switch (m.header_match_specifier_case()) {
    case H::kExactMatch:
      // Envoy: an empty exact_match accepts any value of a present header.
      if (!m.exact_match().empty()) {
        out.kind_ = Kind::kValue;
        out.value_ = StringMatcher::Literal(StringMatcher::Kind::kExact, m.exact_match(), false);
      }
      break;
    case H::kPrefixMatch:
      if (!literal(StringMatcher::Kind::kPrefix, m.prefix_match())) return std::nullopt;
      break;
    case H::kSuffixMatch:
      if (!literal(StringMatcher::Kind::kSuffix, m.suffix_match())) return std::nullopt;
      break;
    case H::kContainsMatch:
      if (!literal(StringMatcher::Kind::kContains, m.contains_match())) return std::nullopt;
      break;
    case H::kSafeRegexMatch: {
      auto re = CompileRegex(m.safe_regex_match(), at, error);
      if (!re) return std::nullopt;
      out.kind_ = Kind::kValue;
      out.value_ = StringMatcher::Regex(std::move(re));
      break;
    }
    case H::kStringMatch:
      out.value_ = StringMatcher::Compile(m.string_match(), at, error);
      if (!out.value_) return std::nullopt;
      out.kind_ = Kind::kValue;
      break;
    case H::kRangeMatch:
      out.kind_ = Kind::kRange;
      out.range_start_ = m.range_match().start();
      out.range_end_ = m.range_match().end();
      break;
    case H::kPresentMatch:
      out.present_ = m.present_match();
      break;
    case H::HEADER_MATCH_SPECIFIER_NOT_SET:
      break;  // presence
  }
  return out;
}

// Envoy's HeaderUtility::matchHeaders: a missing header (unless treated as empty) satisfies only
// present_match: false, or an inverted present_match: true; every other matcher fails on it.
bool HeaderMatcher::Match(const RequestView& request) const {
  std::string scratch;
  std::optional<std::string_view> value = HeaderValue(request, name_, scratch);
  if (!value && !treat_missing_as_empty_) {
    return kind_ == Kind::kPresent && (invert_ ? present_ : !present_);
  }
  const std::string_view v = value.value_or(std::string_view());
  bool match = false;
  switch (kind_) {
    case Kind::kPresent:
      match = present_;
      break;
    case Kind::kValue:
      match = value_->Match(v);
      break;
    case Kind::kRange: {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      match = !v.empty() && ec == std::errc() && end == v.data() + v.size() && n >= range_start_ &&
              n < range_end_;
      break;
    }
  }
  return match != invert_;
}

std::optional<QueryParameterMatcher> QueryParameterMatcher::Compile(
    const envoy::config::route::v3::QueryParameterMatcher& m, const std::string& where,
    std::string* error) {
  const std::string at = where + ": query parameter matcher \"" + m.name() + "\"";
  if (!OnlyFields(m, {"name", "string_match", "present_match"}, at, error)) return std::nullopt;
  if (m.name().empty()) {
    *error = at + ": empty name";
    return std::nullopt;
  }
  QueryParameterMatcher out;
  out.name_ = m.name();
  if (m.has_string_match()) {
    out.value_ = StringMatcher::Compile(m.string_match(), at, error);
    if (!out.value_) return std::nullopt;
  } else if (m.query_parameter_match_specifier_case() ==
             envoy::config::route::v3::QueryParameterMatcher::kPresentMatch) {
    out.present_ = m.present_match();
  }
  return out;
}

// Envoy's QueryParameterMatcher: the first value of the (percent-decoded) name; present_match
// compares presence (false matches an absent parameter); no matcher at all is a presence check.
bool QueryParameterMatcher::Match(std::string_view path) const {
  const std::optional<std::string_view> raw_value = FirstQueryValue(path, name_);
  if (present_) return raw_value.has_value() == *present_;
  if (!raw_value) return false;
  if (!value_) return true;
  if (raw_value->find('%') == std::string_view::npos) return value_->Match(*raw_value);
  std::string decoded;
  PercentDecode(*raw_value, decoded);
  return value_->Match(decoded);
}

std::optional<RouteMatcher> RouteMatcher::Compile(const envoy::config::route::v3::RouteMatch& m,
                                                  const std::string& where, std::string* error) {
  using R = envoy::config::route::v3::RouteMatch;
  const std::string at = where + ": match";
  if (!OnlyFields(m,
                  {"prefix", "path", "safe_regex", "path_separated_prefix", "case_sensitive",
                   "headers", "query_parameters", "grpc"},
                  at, error)) {
    return std::nullopt;
  }
  RouteMatcher out;
  out.case_sensitive_ = !m.has_case_sensitive() || m.case_sensitive().value();
  switch (m.path_specifier_case()) {
    case R::kPrefix:
      out.kind_ = PathKind::kPrefix;
      out.value_ = m.prefix();
      break;
    case R::kPath:
      out.kind_ = PathKind::kPath;
      out.value_ = m.path();
      break;
    case R::kSafeRegex:  // case_sensitive does not apply to regexes (as in Envoy)
      out.kind_ = PathKind::kRegex;
      out.regex_ = CompileRegex(m.safe_regex(), at + ".safe_regex", error);
      if (!out.regex_) return std::nullopt;
      break;
    case R::kPathSeparatedPrefix: {
      const std::string& p = m.path_separated_prefix();
      // Envoy's validation: no query or fragment, and no trailing slash.
      if (p.empty() || p.find_first_of("?#") != std::string::npos || p.back() == '/') {
        *error = at + ": path_separated_prefix \"" + p +
                 "\" must be non-empty, without '?' or '#', and not end with '/'";
        return std::nullopt;
      }
      out.kind_ = PathKind::kSeparatedPrefix;
      out.value_ = p;
      break;
    }
    default:
      *error = at + ": no supported path specifier (prefix, path, safe_regex or "
                    "path_separated_prefix)";
      return std::nullopt;
  }
  if (m.has_grpc()) {
    if (!OnlyFields(m.grpc(), {}, at + ".grpc", error)) return std::nullopt;
    out.grpc_ = true;
  }
  for (int i = 0; i < m.headers_size(); ++i) {
    auto h = HeaderMatcher::Compile(m.headers(i), at, error);
    if (!h) return std::nullopt;
    out.headers_.push_back(std::move(*h));
  }
  for (int i = 0; i < m.query_parameters_size(); ++i) {
    auto q = QueryParameterMatcher::Compile(m.query_parameters(i), at, error);
    if (!q) return std::nullopt;
    out.query_.push_back(std::move(*q));
  }
  return out;
}

bool RouteMatcher::Match(const RequestView& request, std::size_t* matched_length) const {
  const std::string_view path = PathWithoutQuery(request.path);
  switch (kind_) {
    case PathKind::kPrefix:
      if (!(case_sensitive_ ? path.starts_with(value_) : StartsWithIgnoreCase(path, value_))) {
        return false;
      }
      *matched_length = value_.size();
      break;
    case PathKind::kPath:
      if (!(case_sensitive_ ? path == value_ : http1::EqualsIgnoreCase(path, value_))) return false;
      *matched_length = value_.size();
      break;
    case PathKind::kRegex:
      if (!FullMatch(*regex_, path)) return false;
      *matched_length = path.size();
      break;
    case PathKind::kSeparatedPrefix:
      if (!(case_sensitive_ ? path.starts_with(value_) : StartsWithIgnoreCase(path, value_))) {
        return false;
      }
      if (path.size() != value_.size() && path[value_.size()] != '/') return false;
      *matched_length = value_.size();
      break;
  }
  if (grpc_) {  // Envoy: a gRPC request is one whose content-type starts with application/grpc
    std::string scratch;
    auto ct = HeaderValue(request, "content-type", scratch);
    if (!ct || !StartsWithIgnoreCase(*ct, "application/grpc")) return false;
  }
  for (const auto& h : headers_) {
    if (!h.Match(request)) return false;
  }
  for (const auto& q : query_) {
    if (!q.Match(request.path)) return false;
  }
  return true;
}

}  // namespace cmesh::router
