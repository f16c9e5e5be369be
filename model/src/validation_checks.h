// Small validation predicates shared by the VirtualService and DestinationRule validators, and a
// collector that stamps every problem with the object it concerns.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/model/common.h"
#include "cmesh/model/diagnostic.h"

namespace cmesh::model::internal {

class Problems {
 public:
  explicit Problems(ObjectRef ref) : ref_(std::move(ref)) {}
  // Kubernetes-style reasons, like the API server's field errors.
  void Invalid(const std::string& field, const std::string& detail) {
    Add(field, "Invalid value: " + detail);
  }
  void Required(const std::string& field, const std::string& detail) {
    Add(field, "Required value: " + detail);
  }
  void Unsupported(const std::string& field, const std::string& detail) {
    Add(field, "Unsupported value: " + detail);
  }
  void Duplicate(const std::string& field, const std::string& detail) {
    Add(field, "Duplicate value: " + detail);
  }
  void Warn(const std::string& field, std::string message) {
    out_.push_back(Diagnostic{Severity::kWarning, ref_, field, std::move(message)});
  }
  void Add(const std::string& field, std::string message) {
    out_.push_back(Diagnostic{Severity::kError, ref_, field, std::move(message)});
  }
  std::vector<Diagnostic> Take() { return std::move(out_); }

 private:
  ObjectRef ref_;
  std::vector<Diagnostic> out_;
};

std::string Quote(std::string_view s);
std::string FormatNumber(double v);

// RFC 1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, ≤ 63 chars.
bool IsDns1123Label(std::string_view s);
// RFC 1123 subdomain: dot-separated labels, ≤ 253 chars.
bool IsDns1123Subdomain(std::string_view s);
// A host name with an optional leading "*." wildcard label, or "*" alone (Istio's
// ValidateWildcardDomain). Letters of either case are accepted, as Istio does.
std::optional<std::string> WildcardDomainError(std::string_view host);
bool IsIpAddress(std::string_view s);
// An IP address or CIDR block (v4 or v6).
bool IsIpOrCidr(std::string_view s);
// An RFC 7230 token: the characters allowed in an HTTP header name.
bool IsHttpToken(std::string_view s);
// Compiles `pattern` with RE2; returns its error text when it does not compile.
std::optional<std::string> RegexError(const std::string& pattern);
// Kubernetes label key (optional DNS-subdomain prefix, '/', name) and value rules.
std::optional<std::string> LabelKeyError(std::string_view key);
std::optional<std::string> LabelValueError(std::string_view value);

// Istio's ValidateDuration: at least 1ms and a whole number of milliseconds.
std::optional<std::string> DurationError(const Duration& d);

// exportTo entries: "." / "*" / namespace names; no duplicates; "*" alone.
void ValidateExportTo(Problems& p, const std::string& field, const std::vector<std::string>& list);
void ValidateLabels(Problems& p, const std::string& field, const Labels& labels);

}  // namespace cmesh::model::internal
