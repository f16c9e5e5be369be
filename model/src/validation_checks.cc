#include "validation_checks.h"

#include <re2/re2.h>

#include <arpa/inet.h>

#include <cstdio>
#include <set>

#include "cmesh/model/duration.h"

namespace cmesh::model::internal {
namespace {
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// RFC 1123 label allowing either letter case (host names are case-insensitive).
bool IsHostLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}
}  // namespace

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!IsDns1123Label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<std::string> WildcardDomainError(std::string_view host) {
  if (host.empty()) return "host must not be empty";
  if (host.size() > 255) return "host name is longer than 255 characters";
  if (host == "*") return std::nullopt;
  std::string_view rest = host;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  // A trailing dot (fully qualified) is accepted, like Istio.
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  size_t start = 0;
  while (true) {
    size_t dot = rest.find('.', start);
    std::string_view label =
        rest.substr(start, dot == std::string_view::npos ? rest.npos : dot - start);
    if (!IsHostLabel(label)) {
      return "domain name " + Quote(host) + " invalid (label " + Quote(label) + " invalid)";
    }
    if (dot == std::string_view::npos) return std::nullopt;
    start = dot + 1;
  }
}

bool IsIpAddress(std::string_view s) {
  std::string str(s);
  unsigned char buf[16];
  return inet_pton(AF_INET, str.c_str(), buf) == 1 || inet_pton(AF_INET6, str.c_str(), buf) == 1;
}

bool IsIpOrCidr(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return IsIpAddress(s);
  std::string_view ip = s.substr(0, slash);
  std::string_view bits = s.substr(slash + 1);
  if (!IsIpAddress(ip) || bits.empty() || bits.size() > 3) return false;
  int n = 0;
  for (char c : bits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  bool v6 = ip.find(':') != std::string_view::npos;
  return n <= (v6 ? 128 : 32);
}

bool IsHttpToken(std::string_view s) {
  if (s.empty()) return false;
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  for (char c : s) {
    if (!IsAlnum(c) && kExtra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::optional<std::string> RegexError(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(pattern, options);
  if (re.ok()) return std::nullopt;
  return re.error();
}

std::optional<std::string> LabelKeyError(std::string_view key) {
  std::string_view name = key;
  auto slash = key.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (!IsDns1123Subdomain(prefix)) return "label key prefix " + Quote(prefix) + " is not a DNS subdomain";
  }
  if (name.empty() || name.size() > 63) return "label key " + Quote(key) + " must be 1-63 characters";
  if (!IsAlnum(name.front()) || !IsAlnum(name.back())) {
    return "label key " + Quote(key) + " must start and end with an alphanumeric character";
  }
  for (char c : name) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "label key " + Quote(key) + " has an invalid character";
    }
  }
  return std::nullopt;
}

std::optional<std::string> LabelValueError(std::string_view value) {
  if (value.empty()) return std::nullopt;
  if (value.size() > 63) return "label value " + Quote(value) + " is longer than 63 characters";
  if (!IsAlnum(value.front()) || !IsAlnum(value.back())) {
    return "label value " + Quote(value) + " must start and end with an alphanumeric character";
  }
  for (char c : value) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "label value " + Quote(value) + " has an invalid character";
    }
  }
  return std::nullopt;
}

std::optional<std::string> DurationError(const Duration& d) {
  constexpr int64_t kMilli = 1000000;
  if (d.nanos < kMilli) return FormatDuration(d) + ": duration must be at least 1ms";
  if (d.nanos % kMilli != 0) {
    return FormatDuration(d) + ": only durations to millisecond precision are supported";
  }
  return std::nullopt;
}

void ValidateExportTo(Problems& p, const std::string& field, const std::vector<std::string>& list) {
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string& ns = list[i];
    std::string f = field + "[" + std::to_string(i) + "]";
    if (ns != "." && ns != "*" && !IsDns1123Label(ns)) {
      p.Invalid(f, Quote(ns) + ": must be \".\", \"*\" or a namespace name");
    }
    if (!seen.insert(ns).second) p.Duplicate(f, Quote(ns) + ": duplicate exportTo entry");
  }
  if (seen.count("*") && seen.size() > 1) {
    p.Invalid(field, "\"*\" (public) cannot be combined with other exportTo entries");
  }
}

void ValidateLabels(Problems& p, const std::string& field, const Labels& labels) {
  for (const auto& [k, v] : labels) {
    if (auto e = LabelKeyError(k)) p.Invalid(field + "[" + k + "]", *e);
    if (auto e = LabelValueError(v)) p.Invalid(field + "[" + k + "]", *e);
  }
}

}  // namespace cmesh::model::internal
