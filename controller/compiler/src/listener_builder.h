// LDS: virtualOutbound (15001), virtualInbound (15006) and the per-port outbound listeners.
#pragma once

#include <string>
#include <vector>

#include "cluster_builder.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "proxy_view.h"

namespace cmesh::compiler {

// 0.0.0.0:15001, use_original_dst and the original_dst listener filter: connections are handed
// to the listener of their original destination (bind_to_port: false listeners); the default
// filter chain sends the rest to PassthroughCluster (ALLOW_ANY) or BlackHoleCluster
// (REGISTRY_ONLY); a chain for destination port 15001 itself goes to BlackHoleCluster (loops).
envoy::config::listener::v3::Listener BuildVirtualOutbound(const MeshOptions& options);

// 0.0.0.0:15006: one filter chain per inbound port (HTTP: HCM with the inline route config
// `inbound|PORT||`; TCP: tcp_proxy), and a default chain to InboundPassthroughCluster.
envoy::config::listener::v3::Listener BuildVirtualInbound(const std::vector<InboundPort>& ports,
                                                          const MeshOptions& options);

// 0.0.0.0_PORT: HCM with RDS "PORT" over ADS, filters fault, cors, router (router last).
envoy::config::listener::v3::Listener BuildHttpOutboundListener(uint32_t port);

// CLUSTERIP_PORT listeners with tcp_proxy for the TCP ports of visible services (weighted
// clusters from the first applicable VirtualService tcp route). Headless services (no cluster
// IP) get none: cmesh does not build per-endpoint listeners yet.
std::vector<envoy::config::listener::v3::Listener> BuildTcpOutboundListeners(const ProxyView& view,
                                                                            std::vector<std::string>* warnings);

}  // namespace cmesh::compiler
