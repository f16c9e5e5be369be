#include "cmesh/proxy_init/nat_rules.h"

#include <string_view>

namespace cmesh::proxy_init {
namespace {

std::string Port(std::uint16_t port) { return std::to_string(port); }

bool AnyContainsLoopback(const CaptureConfig& config) {
  const Cidr v4 = std::get<Cidr>(ParseCidr("127.0.0.1"));
  const Cidr v6 = std::get<Cidr>(ParseCidr("::1"));
  for (const auto& cidr : config.include_outbound_ranges) {
    if (cidr.Contains(v4) || cidr.Contains(v6)) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& OwnChains() {
  static const std::vector<std::string> chains = {kInboundChain, kRedirectChain, kInRedirectChain,
                                                  kOutputChain};
  return chains;
}

NatRules BuildNatRules(const CaptureConfig& config, IpFamily family) {
  const bool v4 = family == IpFamily::kV4;
  // The inbound passthrough cluster binds 127.0.0.6 (::6) so its connections to the app are
  // told apart from the app's own loopback traffic.
  const std::string passthrough_source = v4 ? "127.0.0.6/32" : "::6/128";
  const std::string localhost = v4 ? "127.0.0.1/32" : "::1/128";
  const std::string in = kInboundChain, out = kOutputChain, redirect = kRedirectChain,
                    in_redirect = kInRedirectChain;
  NatRules result;
  auto add = [&](const std::string& chain, const std::string& spec) {
    result.rules.push_back("-A " + chain + " " + spec);
  };

  add(redirect, "-p tcp -j REDIRECT --to-ports " + Port(config.outbound_capture_port));
  add(in_redirect, "-p tcp -j REDIRECT --to-ports " + Port(config.inbound_capture_port));

  // Inbound. The tunnel port always returns first, as in istio-iptables.
  add(in, "-p tcp --dport " + Port(config.inbound_tunnel_port) + " -j RETURN");
  const PortList& inbound = config.inbound_ports;
  if (inbound.all || !inbound.ports.empty()) {
    add("PREROUTING", "-p tcp -j " + in);
    if (inbound.all) {
      for (auto port : EffectiveExcludedInboundPorts(config)) {
        add(in, "-p tcp --dport " + Port(port) + " -j RETURN");
      }
      add(in, "-p tcp -j " + in_redirect);
    } else {
      for (auto port : inbound.ports) {
        add(in, "-p tcp --dport " + Port(port) + " -j " + in_redirect);
      }
    }
  }

  // Outbound.
  add("OUTPUT", "-p tcp -j " + out);
  // Port exclusions come before the loopback handling: an excluded port is never captured.
  for (auto port : config.exclude_outbound_ports) {
    add(out, "-p tcp --dport " + Port(port) + " -j RETURN");
  }
  add(out, "-o lo -s " + passthrough_source + " -j RETURN");
  const bool loopback_included = AnyContainsLoopback(config);
  auto owner_rules = [&](const std::string& owner_flag, std::uint32_t id) {
    const std::string owner = "-m owner " + owner_flag + " " + std::to_string(id);
    const std::string not_owner = "-m owner ! " + owner_flag + " " + std::to_string(id);
    // The proxy calling a service whose endpoint is its own pod (a service VIP resolved to the
    // pod's address, which leaves through lo) goes to the inbound side: appN => sidecar
    // (outbound) => sidecar (inbound) => appN. The tunnel port is left to the proxy.
    add(out, "-o lo ! -d " + localhost + " -p tcp ! --dport " + Port(config.inbound_tunnel_port) +
                 " " + owner + " -j " + in_redirect);
    // The app talking to its own pod over lo is not captured, unless loopback was asked for
    // through the included ranges.
    if (!loopback_included) add(out, "-o lo " + not_owner + " -j RETURN");
    // Everything else the proxy sends leaves as is: no loop back into itself.
    add(out, owner + " -j RETURN");
  };
  for (auto uid : config.proxy_uids) owner_rules("--uid-owner", uid);
  for (auto gid : config.proxy_gids) owner_rules("--gid-owner", gid);
  // Envoy-aware apps and container-to-container traffic use localhost explicitly.
  add(out, "-d " + localhost + " -j RETURN");
  for (const auto& cidr : config.exclude_outbound_ranges) {
    if (cidr.family == family) add(out, "-d " + cidr.ToString() + " -j RETURN");
  }
  for (auto port : config.include_outbound_ports) {
    add(out, "-p tcp --dport " + Port(port) + " -j " + redirect);
  }
  if (config.include_all_outbound_ranges) {
    add(out, "-j " + redirect);
  } else {
    for (const auto& cidr : config.include_outbound_ranges) {
      if (cidr.family == family) add(out, "-d " + cidr.ToString() + " -j " + redirect);
    }
  }
  return result;
}

std::string RenderApply(const NatRules& rules, const std::vector<std::string>& deletions) {
  std::string text = "*nat\n";
  for (const auto& chain : OwnChains()) text += ":" + chain + " - [0:0]\n";
  for (const auto& line : deletions) text += line + "\n";
  for (const auto& line : rules.rules) text += line + "\n";
  text += "COMMIT\n";
  return text;
}

std::string RenderCleanup(const std::vector<std::string>& existing_chains,
                          const std::vector<std::string>& deletions) {
  std::string text = "*nat\n";
  // Declaring an existing chain under --noflush flushes it, so the chains' references to each
  // other are gone before they are deleted.
  for (const auto& chain : existing_chains) text += ":" + chain + " - [0:0]\n";
  for (const auto& line : deletions) text += line + "\n";
  for (const auto& chain : existing_chains) text += "-X " + chain + "\n";
  text += "COMMIT\n";
  return text;
}

}  // namespace cmesh::proxy_init
