// A listener as the workers use it: the filter chains of one LDS Listener, compiled into what a
// connection does once its chain is known (an HTTP connection manager with its routes, or a
// tcp_proxy to one or more weighted clusters) and the match that selects each chain by the
// connection's original destination. Immutable; built per LDS update, shared by every worker.
//
// Chain selection follows Envoy's order, narrowed to what cmesh's and Istio's listeners use:
// destination port (an exact port beats none), then destination prefix (the longest beats none),
// then application protocol: a chain that asks for "http/1.1"/"h2c" is the HTTP candidate of a
// sniffed connection, a chain without one takes everything else. When the most specific group
// has no chain for the connection, the default filter chain serves it (Envoy does not fall back
// to a less specific group either).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/event/socket.h"
#include "cmesh/router/route_table.h"
#include "envoy/config/listener/v3/listener.pb.h"

namespace cmesh::proxy_core {

class RouteTableCache;

// One cluster of a tcp_proxy, with its weight (a single cluster has weight 1).
struct TcpTarget {
  std::string cluster;
  std::uint32_t weight = 1;
};

// What a connection does once its filter chain matched.
struct ChainAction {
  enum class Kind { kHttp, kTcp };
  Kind kind = Kind::kTcp;
  std::string name;  // the filter chain's name
  // kHttp: the routes (RDS name, or the inline configuration compiled).
  std::string rds;
  std::shared_ptr<const router::RouteTable> inline_routes;
  std::chrono::milliseconds http_idle_timeout{std::chrono::hours(1)};  // Envoy's default; 0 = none
  // upgrade_configs: the protocols an HTTP/1.1 Upgrade may switch to (lower case, "websocket").
  std::vector<std::string> upgrade_types;
  // kTcp
  std::vector<TcpTarget> tcp_clusters;
  std::uint64_t tcp_total_weight = 0;
  std::chrono::milliseconds tcp_idle_timeout{std::chrono::hours(1)};  // Envoy's default; 0 = none
  std::chrono::milliseconds max_connection_duration{0};               // 0 = none
};

// A destination prefix (prefix_ranges), IPv4 or IPv6.
struct AddressPrefix {
  bool v6 = false;
  unsigned char bytes[16] = {};
  std::uint32_t length = 0;
  // Whether the IP literal `address` falls in the prefix (false for the other family or junk).
  bool Contains(const std::string& address) const;
};

class CompiledListener {
 public:
  enum class Direction { kUnspecified, kInbound, kOutbound };

  // The listener compiled, or nullptr with *error naming the filter chain and the field that
  // cmesh-proxy cannot honour (the xDS client NACKs with it). Inline route configurations are
  // compiled through `routes` when given (so the validator and the snapshot share the work).
  static std::shared_ptr<const CompiledListener> Build(const envoy::config::listener::v3::Listener& listener,
                                                       RouteTableCache* routes, std::string* error);

  // The candidates for a connection to `destination`: `http` is the chain for a connection that
  // turns out to speak HTTP (set only when some chain asks for HTTP application protocols),
  // `other` serves the rest (or everything, when `http` is null). Both null: no chain and no
  // default chain; the connection is closed.
  struct Selection {
    const ChainAction* http = nullptr;
    const ChainAction* other = nullptr;
  };
  Selection Select(const event::Endpoint& destination) const;

  const std::string& name() const { return name_; }
  const event::Endpoint& address() const { return address_; }
  Direction direction() const { return direction_; }
  bool bind_to_port() const { return bind_to_port_; }
  bool use_original_dst() const { return use_original_dst_; }
  // How long protocol sniffing waits for the client's first bytes (listener_filters_timeout;
  // zero: no limit) and what happens then (continue_on_listener_filters_timeout: the non-HTTP
  // chain serves; otherwise the connection is closed).
  std::chrono::milliseconds sniff_timeout() const { return sniff_timeout_; }
  bool continue_on_sniff_timeout() const { return continue_on_sniff_timeout_; }
  // The RDS name of the first HTTP chain (Istio's "0.0.0.0_9080" listeners), "" when none.
  const std::string& first_rds() const { return first_rds_; }

 private:
  struct Chain {
    std::optional<std::uint16_t> port;
    std::vector<AddressPrefix> prefixes;
    bool http_protocols = false;  // application_protocols lists HTTP ones
    ChainAction action;
  };

  std::string name_;
  event::Endpoint address_;
  Direction direction_ = Direction::kUnspecified;
  bool bind_to_port_ = true;
  bool use_original_dst_ = false;
  std::chrono::milliseconds sniff_timeout_{15000};
  bool continue_on_sniff_timeout_ = false;
  std::string first_rds_;
  std::vector<Chain> chains_;
  std::optional<ChainAction> default_chain_;
};

}  // namespace cmesh::proxy_core
