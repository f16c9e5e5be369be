#include "cmesh/model/duration.h"

#include <cstdint>
#include <cstdio>
#include <limits>

namespace cmesh::model {
namespace {

// 128-bit intermediates keep "9223372036s"-style inputs from overflowing before the range check.
__extension__ typedef __int128 Int128;

// Nanoseconds per unit; the longest unit names come first so "ms" is not read as "m".
struct Unit {
  std::string_view name;
  int64_t nanos;
};
constexpr Unit kUnits[] = {
    {"ns", 1},           {"us", 1000},           {"\xC2\xB5s", 1000},  // µs (U+00B5)
    {"\xCE\xBCs", 1000},  // μs (U+03BC)
    {"ms", 1000000},     {"s", 1000000000},      {"m", 60LL * 1000000000},
    {"h", 3600LL * 1000000000},
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  if (s.empty()) return std::nullopt;
  Int128 total = 0;
  const Int128 kMax = std::numeric_limits<int64_t>::max();
  while (!s.empty()) {
    size_t i = 0;
    Int128 whole = 0;
    bool any_digit = false;
    while (i < s.size() && IsDigit(s[i])) {
      whole = whole * 10 + (s[i] - '0');
      if (whole > kMax) return std::nullopt;
      any_digit = true;
      ++i;
    }
    std::string_view frac;
    if (i < s.size() && s[i] == '.') {
      size_t start = ++i;
      while (i < s.size() && IsDigit(s[i])) ++i;
      frac = s.substr(start, i - start);
      any_digit = any_digit || !frac.empty();
    }
    if (!any_digit) return std::nullopt;
    s.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (s.substr(0, u.name.size()) == u.name) {
        // "m" must not swallow the "m" of "ms"; kUnits lists "ms" before "m", so this holds.
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    s.remove_prefix(unit->name.size());
    Int128 part = whole * unit->nanos;
    // Fraction digits beyond nanosecond precision are truncated.
    Int128 scale = unit->nanos;
    for (char c : frac) {
      scale /= 10;
      if (scale == 0) break;
      part += (c - '0') * scale;
    }
    total += part;
    if (total > kMax) return std::nullopt;
  }
  return Duration{static_cast<int64_t>(negative ? -total : total)};
}

std::string FormatDuration(Duration d) {
  int64_t n = d.nanos;
  std::string sign;
  uint64_t abs = 0;
  if (n < 0) {
    sign = "-";
    abs = static_cast<uint64_t>(-(n + 1)) + 1;
  } else {
    abs = static_cast<uint64_t>(n);
  }
  uint64_t secs = abs / 1000000000ULL;
  uint64_t frac = abs % 1000000000ULL;
  char buf[64];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(secs));
  } else if (frac % 1000000 == 0) {
    std::snprintf(buf, sizeof buf, "%llu.%03llus", static_cast<unsigned long long>(secs),
                  static_cast<unsigned long long>(frac / 1000000));
  } else if (frac % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%llu.%06llus", static_cast<unsigned long long>(secs),
                  static_cast<unsigned long long>(frac / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%llu.%09llus", static_cast<unsigned long long>(secs),
                  static_cast<unsigned long long>(frac));
  }
  return sign + buf;
}

}  // namespace cmesh::model
