#include "cmesh/proxy_init/flags.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

namespace cmesh::proxy_init {
namespace {

FlagError Invalid(const std::string& flag, const std::string& value, const std::string& why) {
  return FlagError{"invalid " + flag + " \"" + value + "\": " + why};
}

std::optional<FlagError> SetPorts(const std::string& flag, const std::string& value,
                                  bool allow_all, PortList& out) {
  auto parsed = ParsePortList(value, allow_all);
  if (auto* error = std::get_if<std::string>(&parsed)) return Invalid(flag, value, *error);
  out = std::get<PortList>(parsed);
  return std::nullopt;
}

std::optional<FlagError> SetPortVector(const std::string& flag, const std::string& value,
                                       std::vector<std::uint16_t>& out) {
  PortList list;
  if (auto error = SetPorts(flag, value, /*allow_all=*/false, list)) return error;
  out = list.ports;
  return std::nullopt;
}

std::optional<FlagError> SetPort(const std::string& flag, const std::string& value,
                                 std::uint16_t& out) {
  auto parsed = ParsePort(value);
  if (auto* error = std::get_if<std::string>(&parsed)) return Invalid(flag, value, *error);
  out = std::get<std::uint16_t>(parsed);
  return std::nullopt;
}

// A comma-separated list of CIDRs; "*" only where allowed (sets *all).
std::optional<FlagError> SetRanges(const std::string& flag, const std::string& value, bool* all,
                                   std::vector<Cidr>& out) {
  out.clear();
  if (all) *all = false;
  std::string_view rest = value;
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  if (trim(rest).empty()) return std::nullopt;
  if (trim(rest) == "*") {
    if (!all) return Invalid(flag, value, "\"*\" is not allowed here: list the CIDRs");
    *all = true;
    return std::nullopt;
  }
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    if (item == "*") return Invalid(flag, value, "\"*\" must be the whole list, not one of its items");
    auto parsed = ParseCidr(item);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      return Invalid(flag, value, "\"" + std::string(item) + "\" is not a CIDR: " + *error);
    }
    auto cidr = std::get<Cidr>(parsed);
    if (std::find(out.begin(), out.end(), cidr) == out.end()) out.push_back(cidr);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

// A comma-separated list of numeric user or group ids.
std::optional<FlagError> SetIds(const std::string& flag, const std::string& value,
                                std::vector<std::uint32_t>& out) {
  out.clear();
  std::string_view rest = value;
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::uint64_t id = 0;
    bool valid = !item.empty() && item.size() <= 10;
    for (char c : item) {
      if (c < '0' || c > '9') valid = false;
      else id = id * 10 + static_cast<std::uint64_t>(c - '0');
    }
    // 4294967295 is (uid_t)-1, "no id", which the kernel never assigns.
    if (!valid || id >= 4294967295ULL) {
      return Invalid(flag, value, "\"" + std::string(item) + "\" is not a numeric id");
    }
    if (std::find(out.begin(), out.end(), id) == out.end()) {
      out.push_back(static_cast<std::uint32_t>(id));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::uint16_t> EffectiveExcludedInboundPorts(const CaptureConfig& config) {
  std::vector<std::uint16_t> ports(std::begin(kAlwaysExcludedInboundPorts),
                                   std::end(kAlwaysExcludedInboundPorts));
  for (auto port : config.exclude_inbound_ports) {
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
  }
  return ports;
}

std::variant<Options, FlagError> ParseFlags(const std::vector<std::string>& args) {
  Options options;
  CaptureConfig& c = options.capture;
  using Setter = std::function<std::optional<FlagError>(const std::string&, const std::string&)>;
  const std::map<std::string, Setter> valued = {
      {"--inbound-ports",
       [&](auto& f, auto& v) { return SetPorts(f, v, /*allow_all=*/true, c.inbound_ports); }},
      {"--exclude-inbound-ports",
       [&](auto& f, auto& v) { return SetPortVector(f, v, c.exclude_inbound_ports); }},
      {"--outbound-ports",
       [&](auto& f, auto& v) { return SetPortVector(f, v, c.include_outbound_ports); }},
      {"--include-outbound-ports",
       [&](auto& f, auto& v) { return SetPortVector(f, v, c.include_outbound_ports); }},
      {"--exclude-outbound-ports",
       [&](auto& f, auto& v) { return SetPortVector(f, v, c.exclude_outbound_ports); }},
      {"--include-outbound-ip-ranges",
       [&](auto& f, auto& v) {
         return SetRanges(f, v, &c.include_all_outbound_ranges, c.include_outbound_ranges);
       }},
      {"--exclude-outbound-ip-ranges",
       [&](auto& f, auto& v) { return SetRanges(f, v, nullptr, c.exclude_outbound_ranges); }},
      {"--proxy-uid", [&](auto& f, auto& v) { return SetIds(f, v, c.proxy_uids); }},
      {"--proxy-gid", [&](auto& f, auto& v) { return SetIds(f, v, c.proxy_gids); }},
      {"--inbound-capture-port",
       [&](auto& f, auto& v) { return SetPort(f, v, c.inbound_capture_port); }},
      {"--outbound-capture-port",
       [&](auto& f, auto& v) { return SetPort(f, v, c.outbound_capture_port); }},
      {"--inbound-tunnel-port",
       [&](auto& f, auto& v) { return SetPort(f, v, c.inbound_tunnel_port); }},
      {"--ipv6",
       [&](auto& f, auto& v) -> std::optional<FlagError> {
         if (v == "auto") c.ipv6 = Ipv6Mode::kAuto;
         else if (v == "on" || v == "true") c.ipv6 = Ipv6Mode::kOn;
         else if (v == "off" || v == "false") c.ipv6 = Ipv6Mode::kOff;
         else return Invalid(f, v, "expected auto, on or off");
         return std::nullopt;
       }},
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--dry-run" || flag == "--cleanup" || flag == "--help" || flag == "-h") {
      if (value) return FlagError{flag + " takes no value (got \"" + *value + "\")"};
      if (flag == "--dry-run") options.dry_run = true;
      else if (flag == "--cleanup") options.cleanup = true;
      else options.help = true;
      continue;
    }
    auto setter = valued.find(flag);
    if (setter == valued.end()) return FlagError{"unknown flag \"" + flag + "\" (see --help)"};
    if (!value) {
      if (i + 1 >= args.size()) return FlagError{flag + " needs a value"};
      value = args[++i];
    }
    if (auto error = setter->second(flag, *value)) return *error;
  }
  return options;
}

std::string Usage() {
  return R"(usage: cmesh-init [flags]

Installs the pod's nat-table rules that send its TCP traffic through the sidecar, as istio-init
does: outbound to the outbound capture port, inbound to the inbound capture port, the proxy's own
packets (its UID and GID) exempt. Re-running replaces the rules; only the ISTIO_* chains and the
jumps into them are touched. Flags mirror the traffic.sidecar.istio.io/* annotations.

  --inbound-ports LIST            includeInboundPorts: ports captured inbound; "*" (default) = all,
                                  "" = none
  --exclude-inbound-ports LIST    excludeInboundPorts: not captured when --inbound-ports is "*";
                                  15090, 15021 and 15020 are always excluded
  --outbound-ports LIST           includeOutboundPorts (also --include-outbound-ports): always
                                  captured, whatever the destination
  --exclude-outbound-ports LIST   excludeOutboundPorts: never captured
  --include-outbound-ip-ranges L  includeOutboundIPRanges: CIDRs captured; "*" (default) = all
  --exclude-outbound-ip-ranges L  excludeOutboundIPRanges: CIDRs never captured
  --proxy-uid IDS                 the proxy's user ids (default 1337)
  --proxy-gid IDS                 the proxy's group ids (default 1337)
  --outbound-capture-port PORT    default 15001
  --inbound-capture-port PORT     default 15006
  --inbound-tunnel-port PORT      default 15008 (never captured inbound)
  --ipv6 auto|on|off              also ip6tables: auto (default) when the namespace has a global
                                  IPv6 address
  --dry-run                       print the iptables-restore input, change nothing
  --cleanup                       remove the ISTIO_* chains and the jumps into them

Exit status: 0 done, 1 iptables failed (the message says why), 2 invalid flags.
)";
}

}  // namespace cmesh::proxy_init
