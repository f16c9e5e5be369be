#include "string_matcher.h"

#include <algorithm>

#include "cmesh/http1/message.h"
#include "field_check.h"

// The deprecated google_re2 field is still sent by older control planes.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cmesh::router {
namespace {

constexpr int kDefaultMaxProgramSize = 100;  // Envoy's re2.max_program_size.error_level default

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ContainsIgnoreCase(std::string_view haystack, std::string_view lower_needle) {
  if (lower_needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + lower_needle.size() <= haystack.size(); ++i) {
    size_t j = 0;
    while (j < lower_needle.size() && LowerChar(haystack[i + j]) == lower_needle[j]) ++j;
    if (j == lower_needle.size()) return true;
  }
  return false;
}

}  // namespace

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), LowerChar);
  return out;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http1::EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         http1::EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

std::unique_ptr<RE2> CompileRegex(const envoy::type::matcher::v3::RegexMatcher& regex,
                                  const std::string& where, std::string* error) {
  if (!OnlyFields(regex, {"regex", "google_re2"}, where, error)) return nullptr;
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(regex.regex(), options);
  if (!re->ok()) {
    *error = where + ": invalid RE2 regex \"" + regex.regex() + "\": " + re->error();
    return nullptr;
  }
  int limit = kDefaultMaxProgramSize;
  if (regex.has_google_re2() && regex.google_re2().has_max_program_size()) {
    limit = static_cast<int>(regex.google_re2().max_program_size().value());
  }
  if (re->ProgramSize() > limit) {
    *error = where + ": regex \"" + regex.regex() + "\" has an RE2 program size of " +
             std::to_string(re->ProgramSize()) + ", above the limit of " + std::to_string(limit);
    return nullptr;
  }
  return re;
}

bool FullMatch(const RE2& re, std::string_view value) {
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
}

std::optional<StringMatcher> StringMatcher::Compile(
    const envoy::type::matcher::v3::StringMatcher& m, const std::string& where,
    std::string* error) {
  using M = envoy::type::matcher::v3::StringMatcher;
  if (!OnlyFields(m, {"exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"}, where,
                  error)) {
    return std::nullopt;
  }
  const bool ic = m.ignore_case();
  switch (m.match_pattern_case()) {
    case M::kExact:
      return Literal(Kind::kExact, m.exact(), ic);
    case M::kPrefix:
    case M::kSuffix:
    case M::kContains: {
      const std::string& p = m.match_pattern_case() == M::kPrefix   ? m.prefix()
                             : m.match_pattern_case() == M::kSuffix ? m.suffix()
                                                                     : m.contains();
      if (p.empty()) {  // Envoy's validation: min_len 1
        *error = where + ": an empty prefix, suffix or contains pattern";
        return std::nullopt;
      }
      Kind kind = m.match_pattern_case() == M::kPrefix   ? Kind::kPrefix
                  : m.match_pattern_case() == M::kSuffix ? Kind::kSuffix
                                                          : Kind::kContains;
      return Literal(kind, p, ic);
    }
    case M::kSafeRegex: {  // ignore_case has no effect on regexes in Envoy
      auto re = CompileRegex(m.safe_regex(), where, error);
      if (!re) return std::nullopt;
      return Regex(std::move(re));
    }
    default:
      *error = where + ": a string matcher without a pattern";
      return std::nullopt;
  }
}

StringMatcher StringMatcher::Literal(Kind kind, std::string pattern, bool ignore_case) {
  StringMatcher m;
  m.kind_ = kind;
  m.ignore_case_ = ignore_case;
  m.pattern_ = ignore_case ? ToLower(pattern) : std::move(pattern);
  return m;
}

StringMatcher StringMatcher::Regex(std::unique_ptr<RE2> re) {
  StringMatcher m;
  m.kind_ = Kind::kRegex;
  m.regex_ = std::move(re);
  return m;
}

bool StringMatcher::Match(std::string_view value) const {
  switch (kind_) {
    case Kind::kExact:
      return ignore_case_ ? http1::EqualsIgnoreCase(value, pattern_) : value == pattern_;
    case Kind::kPrefix:
      return ignore_case_ ? StartsWithIgnoreCase(value, pattern_) : value.starts_with(pattern_);
    case Kind::kSuffix:
      return ignore_case_ ? EndsWithIgnoreCase(value, pattern_) : value.ends_with(pattern_);
    case Kind::kContains:
      return ignore_case_ ? ContainsIgnoreCase(value, pattern_)
                          : value.find(pattern_) != std::string_view::npos;
    case Kind::kRegex:
      return FullMatch(*regex_, value);
  }
  return false;
}

}  // namespace cmesh::router
