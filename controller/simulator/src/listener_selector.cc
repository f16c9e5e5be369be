#include "listener_selector.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <functional>
#include <optional>

namespace cmesh::simulator {
namespace {

using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::Listener;

struct Address {
  int family = 0;  // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};
};

std::optional<Address> ParseIp(const std::string& text) {
  Address a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

// Length of the matching prefix range, or -1 when `ip` is outside it.
int RangeMatch(const envoy::config::core::v3::CidrRange& range, const Address& ip) {
  auto net = ParseIp(range.address_prefix());
  if (!net || net->family != ip.family) return -1;
  const int max_bits = ip.family == AF_INET ? 32 : 128;
  const int bits = range.has_prefix_len() ? static_cast<int>(range.prefix_len().value()) : max_bits;
  for (int i = 0; i < bits && i < max_bits; ++i) {
    const int byte = i / 8, bit = 7 - i % 8;
    if (((net->bytes[byte] >> bit) & 1) != ((ip.bytes[byte] >> bit) & 1)) return -1;
  }
  return bits;
}

bool IsWildcard(const std::string& address) { return address == "0.0.0.0" || address == "::"; }

// Keeps the chains for which `specific` holds when there are any, else those for which
// `unspecified` holds (Envoy's "most specific criterion first" narrowing).
std::vector<const FilterChain*> Narrow(const std::vector<const FilterChain*>& chains,
                                       const std::function<bool(const FilterChain&)>& specific,
                                       const std::function<bool(const FilterChain&)>& unspecified) {
  std::vector<const FilterChain*> hit, open;
  for (const auto* c : chains) {
    if (specific(*c)) hit.push_back(c);
    if (unspecified(*c)) open.push_back(c);
  }
  return hit.empty() ? open : hit;
}

const FilterChain* SelectFilterChain(const Listener& listener, const Request& request,
                                     std::vector<std::string>& notes) {
  std::vector<const FilterChain*> chains;
  for (const auto& c : listener.filter_chains()) chains.push_back(&c);

  chains = Narrow(
      chains,
      [&](const FilterChain& c) {
        return c.filter_chain_match().has_destination_port() &&
               c.filter_chain_match().destination_port().value() == request.port;
      },
      [](const FilterChain& c) { return !c.filter_chain_match().has_destination_port(); });

  const std::string ip_text = request.destination_ip.empty() ? request.host : request.destination_ip;
  const std::optional<Address> ip = ParseIp(ip_text);
  int best = -1;
  for (const auto* c : chains) {
    if (!ip) break;
    for (const auto& r : c->filter_chain_match().prefix_ranges()) best = std::max(best, RangeMatch(r, *ip));
  }
  if (!ip && std::any_of(chains.begin(), chains.end(), [](const FilterChain* c) {
        return !c->filter_chain_match().prefix_ranges().empty();
      })) {
    notes.push_back("destination IP unknown: filter chains matching on address ranges were skipped");
  }
  chains = Narrow(
      chains,
      [&](const FilterChain& c) {
        if (!ip || best < 0) return false;
        for (const auto& r : c.filter_chain_match().prefix_ranges()) {
          if (RangeMatch(r, *ip) == best) return true;
        }
        return false;
      },
      [](const FilterChain& c) { return c.filter_chain_match().prefix_ranges().empty(); });

  const bool tls = request.scheme == "https";
  chains = Narrow(
      chains,
      [&](const FilterChain& c) {
        if (!tls) return false;
        const auto& names = c.filter_chain_match().server_names();
        return std::find(names.begin(), names.end(), request.host) != names.end();
      },
      [](const FilterChain& c) { return c.filter_chain_match().server_names().empty(); });

  const std::string transport = tls ? "tls" : "raw_buffer";
  chains = Narrow(
      chains, [&](const FilterChain& c) { return c.filter_chain_match().transport_protocol() == transport; },
      [](const FilterChain& c) { return c.filter_chain_match().transport_protocol().empty(); });

  chains = Narrow(
      chains,
      [&](const FilterChain& c) {
        if (tls) return false;
        const auto& protocols = c.filter_chain_match().application_protocols();
        return std::find(protocols.begin(), protocols.end(), "http/1.1") != protocols.end();
      },
      [](const FilterChain& c) { return c.filter_chain_match().application_protocols().empty(); });

  if (!chains.empty()) return chains.front();
  if (listener.has_default_filter_chain()) return &listener.default_filter_chain();
  return nullptr;
}

}  // namespace

ListenerMatch SelectListener(const std::vector<Listener>& listeners, const Request& request) {
  ListenerMatch match;
  const std::string ip = request.destination_ip.empty() ? request.host : request.destination_ip;
  const Listener* exact = nullptr;
  const Listener* wildcard = nullptr;
  const Listener* original_dst = nullptr;
  for (const auto& l : listeners) {
    const auto& sa = l.address().socket_address();
    if (l.has_use_original_dst() && l.use_original_dst().value()) {
      if (!original_dst) original_dst = &l;
      continue;
    }
    if (sa.port_value() != request.port) continue;
    if (sa.address() == ip && !exact) exact = &l;
    if (IsWildcard(sa.address()) && !wildcard) wildcard = &l;
  }
  match.listener = exact ? exact : wildcard ? wildcard : original_dst;
  if (!match.listener) return match;
  const bool ip_unknown = request.destination_ip.empty() && !ParseIp(request.host);
  const bool ip_bound_on_port = std::any_of(listeners.begin(), listeners.end(), [&](const Listener& l) {
    return l.address().socket_address().port_value() == request.port &&
           !IsWildcard(l.address().socket_address().address()) &&
           !(l.has_use_original_dst() && l.use_original_dst().value());
  });
  if (ip_unknown && ip_bound_on_port) {
    match.notes.push_back("destination IP unknown: listeners bound to an address on port " +
                          std::to_string(request.port) + " were not considered");
  }
  match.filter_chain = SelectFilterChain(*match.listener, request, match.notes);
  return match;
}

}  // namespace cmesh::simulator
