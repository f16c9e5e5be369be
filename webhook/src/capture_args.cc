#include "cmesh/webhook/capture_args.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <string_view>

namespace cmesh::webhook {
namespace {

constexpr std::string_view kPrefix = "traffic.sidecar.istio.io/";

enum class ItemKind { kPort, kCidr };

struct Knob {
  const char* annotation;
  const char* flag;
  ItemKind kind;
  bool allow_all;  // "*" as the whole value
};

constexpr std::array<Knob, 6> kKnobs = {{
    {"includeInboundPorts", "--inbound-ports", ItemKind::kPort, true},
    {"excludeInboundPorts", "--exclude-inbound-ports", ItemKind::kPort, false},
    {"includeOutboundPorts", "--outbound-ports", ItemKind::kPort, false},
    {"excludeOutboundPorts", "--exclude-outbound-ports", ItemKind::kPort, false},
    {"includeOutboundIPRanges", "--include-outbound-ip-ranges", ItemKind::kCidr, true},
    {"excludeOutboundIPRanges", "--exclude-outbound-ip-ranges", ItemKind::kCidr, false},
}};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ValidPort(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

// An IPv4/IPv6 address, optionally with a prefix length within the family's bits.
bool ValidCidr(std::string_view text) {
  const auto slash = text.find('/');
  const std::string address(text.substr(0, slash));
  unsigned char buffer[16];
  int bits = 0;
  if (inet_pton(AF_INET, address.c_str(), buffer) == 1) {
    bits = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), buffer) == 1) {
    bits = 128;
  } else {
    return false;
  }
  if (slash == std::string_view::npos) return true;
  const std::string_view prefix = text.substr(slash + 1);
  int length = -1;
  auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), length);
  return !prefix.empty() && ec == std::errc() && end == prefix.data() + prefix.size() && length >= 0 &&
         length <= bits;
}

// The value with each item trimmed, or an error naming the bad item.
std::string Normalize(const Knob& knob, std::string_view value, std::string* error) {
  if (Trim(value).empty()) return "";
  if (Trim(value) == "*") {
    if (!knob.allow_all) *error = "\"*\" is not allowed here: list the " +
                                  std::string(knob.kind == ItemKind::kPort ? "ports" : "CIDRs");
    return "*";
  }
  std::string out;
  while (true) {
    const auto comma = value.find(',');
    const std::string_view item = Trim(value.substr(0, comma));
    const bool ok = knob.kind == ItemKind::kPort ? ValidPort(item) : ValidCidr(item);
    if (!ok) {
      *error = "\"" + std::string(item) + "\" is not " +
               (knob.kind == ItemKind::kPort ? "a port (1-65535)" : "an IPv4 or IPv6 CIDR");
      return "";
    }
    if (!out.empty()) out += ',';
    out += item;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

CaptureArgs CaptureArgsFromAnnotations(const Labels& annotations) {
  CaptureArgs out;
  for (const Knob& knob : kKnobs) {
    const std::string key = std::string(kPrefix) + knob.annotation;
    auto it = annotations.find(key);
    if (it == annotations.end()) continue;
    std::string error;
    std::string value = Normalize(knob, it->second, &error);
    if (!error.empty()) {
      out.errors.push_back("annotation " + key + "=\"" + it->second + "\": " + error);
      continue;
    }
    out.args.push_back(knob.flag);
    out.args.push_back(std::move(value));
  }
  for (const auto& [key, value] : annotations) {
    if (key.rfind(kPrefix, 0) != 0) continue;
    const std::string_view name = std::string_view(key).substr(kPrefix.size());
    bool known = false;
    for (const Knob& knob : kKnobs) known = known || name == knob.annotation;
    if (!known) out.warnings.push_back("annotation " + key + " is not supported by cmesh-init; ignored");
  }
  return out;
}

}  // namespace cmesh::webhook
