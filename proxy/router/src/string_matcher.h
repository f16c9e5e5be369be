// Compiled string matchers: Envoy's StringMatcher (exact, prefix, suffix, contains, safe_regex,
// ignore_case) with regexes compiled once at Build time.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "envoy/type/matcher/v3/regex.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"

namespace cmesh::router {

// Compiles a RegexMatcher (RE2). Like Envoy, refuses a program larger than 100 (or the deprecated
// google_re2.max_program_size when given), so costly regexes are caught at configuration time.
std::unique_ptr<RE2> CompileRegex(const envoy::type::matcher::v3::RegexMatcher& regex,
                                  const std::string& where, std::string* error);

// RE2 full match of the whole value.
bool FullMatch(const RE2& re, std::string_view value);

class StringMatcher {
 public:
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kRegex };

  static std::optional<StringMatcher> Compile(const envoy::type::matcher::v3::StringMatcher& m,
                                              const std::string& where, std::string* error);
  static StringMatcher Literal(Kind kind, std::string pattern, bool ignore_case);
  static StringMatcher Regex(std::unique_ptr<RE2> re);

  bool Match(std::string_view value) const;

 private:
  Kind kind_ = Kind::kExact;
  bool ignore_case_ = false;
  std::string pattern_;  // lower-cased when ignore_case_
  std::unique_ptr<RE2> regex_;
};

// ASCII case-insensitive helpers (header values, paths, host names).
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix);
std::string ToLower(std::string_view s);

}  // namespace cmesh::router
