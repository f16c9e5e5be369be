#include "cmesh/proxy_core/listener_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "cmesh/proxy_core/route_table_cache.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace cmesh::proxy_core {
namespace {

using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::Listener;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

constexpr char kHcm[] = "envoy.filters.network.http_connection_manager";
constexpr char kTcpProxy[] = "envoy.filters.network.tcp_proxy";
constexpr char kHcmType[] =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr char kTcpProxyType[] = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

std::chrono::milliseconds Millis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

bool Negative(const google::protobuf::Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

bool IsHttpProtocol(const std::string& p) { return p == "http/1.1" || p == "http/1.0" || p == "h2c" || p == "h2"; }

bool ParseAddress(const std::string& text, bool* v6, unsigned char bytes[16]) {
  std::memset(bytes, 0, 16);
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

// The HTTP connection manager or tcp_proxy of a filter chain, compiled.
class ChainCompiler {
 public:
  ChainCompiler(RouteTableCache* routes, std::string* error) : routes_(routes), error_(error) {}

  bool Compile(const FilterChain& chain, const std::string& what, ChainAction* action) {
    what_ = what;
    action->name = chain.name();
    if (chain.has_transport_socket()) return Fail("transport_socket (TLS) is not supported");
    if (chain.filters().empty()) return Fail("has no filters");
    for (int i = 0; i < chain.filters_size(); ++i) {
      const auto& filter = chain.filters(i);
      const bool last = i + 1 == chain.filters_size();
      const std::string& type = filter.has_typed_config() ? filter.typed_config().type_url() : std::string();
      const bool hcm = filter.name() == kHcm || type == kHcmType;
      const bool tcp = filter.name() == kTcpProxy || type == kTcpProxyType;
      if (!hcm && !tcp) return Fail("network filter \"" + filter.name() + "\" is not supported");
      if (!last) return Fail("network filter \"" + filter.name() + "\" must be the chain's last");
      if (hcm) {
        HttpConnectionManager config;
        if (!filter.has_typed_config() || !filter.typed_config().UnpackTo(&config)) {
          return Fail("http_connection_manager typed_config does not decode");
        }
        return Http(config, action);
      }
      TcpProxy config;
      if (!filter.has_typed_config() || !filter.typed_config().UnpackTo(&config)) {
        return Fail("tcp_proxy typed_config does not decode");
      }
      return Tcp(config, action);
    }
    return true;
  }

 private:
  bool Fail(const std::string& why) {
    *error_ = what_ + ": " + why;
    return false;
  }

  bool Http(const HttpConnectionManager& hcm, ChainAction* action) {
    action->kind = ChainAction::Kind::kHttp;
    if (hcm.has_rds()) {
      action->rds = hcm.rds().route_config_name();
      if (action->rds.empty()) return Fail("http_connection_manager rds has no route_config_name");
    } else if (hcm.has_route_config()) {
      std::string why;
      action->inline_routes = routes_ ? routes_->Get(hcm.route_config(), &why)
                                      : router::RouteTable::Build(hcm.route_config(), &why);
      if (!action->inline_routes) return Fail("route_config " + hcm.route_config().name() + ": " + why);
    } else {
      return Fail("http_connection_manager has neither rds nor route_config");
    }
    if (hcm.has_common_http_protocol_options() && hcm.common_http_protocol_options().has_idle_timeout()) {
      const auto& idle = hcm.common_http_protocol_options().idle_timeout();
      if (Negative(idle)) return Fail("common_http_protocol_options.idle_timeout must not be negative");
      action->http_idle_timeout = Millis(idle);
    }
    for (const auto& upgrade : hcm.upgrade_configs()) {
      if (upgrade.has_enabled() && !upgrade.enabled().value()) continue;
      if (!upgrade.filters().empty()) return Fail("upgrade_configs with their own filters are not supported");
      std::string type = upgrade.upgrade_type();
      for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (type == "connect") return Fail("upgrade_configs CONNECT is not supported");
      action->upgrade_types.push_back(std::move(type));
    }
    for (const auto& filter : hcm.http_filters()) {
      const std::string& n = filter.name();
      if (n != "envoy.filters.http.fault" && n != "envoy.filters.http.cors" && n != "envoy.filters.http.router" &&
          !filter.is_optional()) {
        return Fail("http filter \"" + n + "\" is not supported (fault, cors and router are)");
      }
    }
    return true;
  }

  bool Tcp(const TcpProxy& proxy, ChainAction* action) {
    action->kind = ChainAction::Kind::kTcp;
    if (proxy.has_weighted_clusters()) {
      for (const auto& c : proxy.weighted_clusters().clusters()) {
        if (c.name().empty()) return Fail("tcp_proxy weighted cluster without a name");
        if (c.weight() == 0) continue;  // never picked
        if (c.has_metadata_match()) return Fail("tcp_proxy weighted cluster metadata_match is not supported");
        action->tcp_clusters.push_back({c.name(), c.weight()});
        action->tcp_total_weight += c.weight();
      }
      if (action->tcp_clusters.empty()) return Fail("tcp_proxy weighted_clusters has no cluster with a weight");
    } else if (!proxy.cluster().empty()) {
      action->tcp_clusters.push_back({proxy.cluster(), 1});
      action->tcp_total_weight = 1;
    } else {
      return Fail("tcp_proxy names no cluster (on_demand and tunnelling are not supported)");
    }
    if (proxy.has_tunneling_config()) return Fail("tcp_proxy tunneling_config is not supported");
    if (proxy.has_metadata_match()) return Fail("tcp_proxy metadata_match is not supported");
    if (proxy.has_idle_timeout()) {
      if (Negative(proxy.idle_timeout())) return Fail("tcp_proxy idle_timeout must not be negative");
      action->tcp_idle_timeout = Millis(proxy.idle_timeout());
    }
    if (proxy.has_max_downstream_connection_duration()) {
      if (Negative(proxy.max_downstream_connection_duration())) {
        return Fail("tcp_proxy max_downstream_connection_duration must not be negative");
      }
      action->max_connection_duration = Millis(proxy.max_downstream_connection_duration());
    }
    return true;
  }

  RouteTableCache* routes_;
  std::string* error_;
  std::string what_;
};

}  // namespace

bool AddressPrefix::Contains(const std::string& address) const {
  bool other_v6 = false;
  unsigned char other[16];
  if (!ParseAddress(address, &other_v6, other) || other_v6 != v6) return false;
  const std::uint32_t full = length / 8, rest = length % 8;
  if (std::memcmp(bytes, other, full) != 0) return false;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (other[full] & mask);
}

std::shared_ptr<const CompiledListener> CompiledListener::Build(const Listener& listener, RouteTableCache* routes,
                                                                std::string* error) {
  auto out = std::make_shared<CompiledListener>();
  out->name_ = listener.name();
  if (listener.has_address()) {
    if (!listener.address().has_socket_address()) {
      *error = "address: only socket addresses are supported";
      return nullptr;
    }
    const auto& sa = listener.address().socket_address();
    out->address_ = {sa.address(), static_cast<std::uint16_t>(sa.port_value())};
  }
  switch (listener.traffic_direction()) {
    case envoy::config::core::v3::INBOUND: out->direction_ = Direction::kInbound; break;
    case envoy::config::core::v3::OUTBOUND: out->direction_ = Direction::kOutbound; break;
    default: break;
  }
  out->bind_to_port_ = !listener.has_bind_to_port() || listener.bind_to_port().value();
  out->use_original_dst_ = listener.has_use_original_dst() && listener.use_original_dst().value();
  if (listener.has_listener_filters_timeout()) {
    if (Negative(listener.listener_filters_timeout())) {
      *error = "listener_filters_timeout must not be negative";
      return nullptr;
    }
    out->sniff_timeout_ = Millis(listener.listener_filters_timeout());
  }
  out->continue_on_sniff_timeout_ = listener.continue_on_listener_filters_timeout();
  bool http_inspector = false;
  for (const auto& filter : listener.listener_filters()) {
    const std::string& n = filter.name();
    if (n == "envoy.filters.listener.http_inspector") {
      http_inspector = true;
    } else if (n != "envoy.filters.listener.original_dst" && n != "envoy.filters.listener.tls_inspector") {
      // tls_inspector only feeds chains matching on TLS, which are refused below.
      *error = "listener filter \"" + n + "\" is not supported (original_dst, http_inspector and tls_inspector are)";
      return nullptr;
    }
  }
  ChainCompiler compiler(routes, error);
  for (int i = 0; i < listener.filter_chains_size(); ++i) {
    const FilterChain& fc = listener.filter_chains(i);
    const std::string what = "filter chain " + (fc.name().empty() ? "#" + std::to_string(i) : "\"" + fc.name() + "\"");
    Chain chain;
    const auto& m = fc.filter_chain_match();
    if (m.has_destination_port()) chain.port = static_cast<std::uint16_t>(m.destination_port().value());
    for (const auto& range : m.prefix_ranges()) {
      AddressPrefix prefix;
      const std::uint32_t max_length = [&] {
        bool v6 = false;
        unsigned char b[16];
        return ParseAddress(range.address_prefix(), &v6, b) ? (v6 ? 128u : 32u) : 0u;
      }();
      if (max_length == 0 || !ParseAddress(range.address_prefix(), &prefix.v6, prefix.bytes)) {
        *error = what + ": prefix_ranges address \"" + range.address_prefix() + "\" is not an IP address";
        return nullptr;
      }
      prefix.length = range.has_prefix_len() ? range.prefix_len().value() : max_length;
      if (prefix.length > max_length) {
        *error = what + ": prefix_ranges prefix_len " + std::to_string(prefix.length) + " is too long";
        return nullptr;
      }
      chain.prefixes.push_back(prefix);
    }
    if (!m.server_names().empty() || !m.source_prefix_ranges().empty() || !m.direct_source_prefix_ranges().empty() ||
        !m.source_ports().empty() || m.source_type() != envoy::config::listener::v3::FilterChainMatch::ANY) {
      *error = what + ": filter_chain_match on server names or the source is not supported";
      return nullptr;
    }
    if (!m.transport_protocol().empty() && m.transport_protocol() != "raw_buffer") {
      *error = what + ": transport_protocol \"" + m.transport_protocol() + "\" is not supported (raw_buffer is)";
      return nullptr;
    }
    for (const auto& p : m.application_protocols()) {
      if (!IsHttpProtocol(p)) {
        *error = what + ": application_protocols \"" + p + "\" is not supported (HTTP ones are)";
        return nullptr;
      }
      chain.http_protocols = true;
    }
    if (chain.http_protocols && !http_inspector) continue;  // never matches without the inspector, as in Envoy
    if (!compiler.Compile(fc, what, &chain.action)) return nullptr;
    if (out->first_rds_.empty()) out->first_rds_ = chain.action.rds;
    out->chains_.push_back(std::move(chain));
  }
  if (listener.has_default_filter_chain()) {
    ChainAction action;
    const auto& fc = listener.default_filter_chain();
    if (!compiler.Compile(fc, "default filter chain", &action)) return nullptr;
    if (out->first_rds_.empty()) out->first_rds_ = action.rds;
    out->default_chain_ = std::move(action);
  }
  return out;
}

CompiledListener::Selection CompiledListener::Select(const event::Endpoint& destination) const {
  // Envoy's order: port, then prefix, then application protocol; the most specific group that
  // exists decides, and without a chain there the default chain serves.
  int best_port = -1;  // 1: exact port, 0: any port
  for (const Chain& c : chains_) {
    if (c.port && *c.port == destination.port) best_port = 1;
    else if (!c.port && best_port < 0) best_port = 0;
  }
  Selection out;
  const ChainAction* fallback = default_chain_ ? &*default_chain_ : nullptr;
  if (best_port < 0) {
    out.other = fallback;
    return out;
  }
  int best_prefix = -1;  // the longest matching prefix; 0 when a chain has none
  for (const Chain& c : chains_) {
    if ((best_port == 1) != c.port.has_value() || (c.port && *c.port != destination.port)) continue;
    if (c.prefixes.empty()) {
      best_prefix = std::max(best_prefix, 0);
      continue;
    }
    for (const AddressPrefix& p : c.prefixes) {
      if (p.Contains(destination.address)) best_prefix = std::max(best_prefix, static_cast<int>(p.length) + 1);
    }
  }
  if (best_prefix < 0) {
    out.other = fallback;
    return out;
  }
  for (const Chain& c : chains_) {
    if ((best_port == 1) != c.port.has_value() || (c.port && *c.port != destination.port)) continue;
    bool prefix_ok = best_prefix == 0 ? c.prefixes.empty() : false;
    if (best_prefix > 0) {
      for (const AddressPrefix& p : c.prefixes) {
        if (static_cast<int>(p.length) + 1 == best_prefix && p.Contains(destination.address)) prefix_ok = true;
      }
    }
    if (!prefix_ok) continue;
    if (c.http_protocols) {
      if (!out.http) out.http = &c.action;
    } else if (!out.other) {
      out.other = &c.action;
    }
  }
  if (!out.other) out.other = fallback;
  return out;
}

}  // namespace cmesh::proxy_core
