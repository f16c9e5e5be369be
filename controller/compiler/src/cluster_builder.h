// CDS: the outbound clusters of every visible service port (and DestinationRule subset), the
// special clusters, and the inbound clusters of the services that select the proxy's pod.
#pragma once

#include <string>
#include <vector>

#include "cmesh/compiler/mesh_options.h"
#include "config_index.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "proxy_view.h"

namespace cmesh::compiler {

// One outbound cluster; `subset` is nullptr for the default cluster. EDS, except for
// ExternalName services: STRICT_DNS to the external name, whose DNS family follows the proxy's
// address family (`ipv6_proxy`, an input of the cluster's cache key for that reason).
envoy::config::cluster::v3::Cluster BuildOutboundCluster(const IndexedService& service, const IndexedPort& port,
                                                         const model::DestinationRule* rule,
                                                         const model::Subset* subset, const MeshOptions& options,
                                                         bool ipv6_proxy, std::vector<std::string>* warnings);

// Whether the proxy's own address is IPv6 (Istio then resolves DNS clusters over IPv6 only).
bool IsIpv6Proxy(const ProxyNode& proxy);

envoy::config::cluster::v3::Cluster BuildPassthroughCluster(const MeshOptions& options);
envoy::config::cluster::v3::Cluster BuildBlackHoleCluster(const MeshOptions& options);
envoy::config::cluster::v3::Cluster BuildInboundPassthroughCluster(const MeshOptions& options);

// An inbound port of the proxy's workload: a port of a service in the proxy's namespace whose
// selector matches the proxy's labels, with the target port resolved.
struct InboundPort {
  uint32_t target_port = 0;
  Protocol protocol = Protocol::kTcp;
  std::string service_fqdn;  // the first (by fqdn) service exposing it
};

// Sorted by target port, unique.
std::vector<InboundPort> InboundPorts(const ProxyView& view);

// inbound|PORT||: a STATIC cluster to 127.0.0.1:PORT. cmesh delivers inbound traffic over
// loopback (the pre-1.10 Istio behaviour), which works for apps bound to 0.0.0.0 or 127.0.0.1
// and for local, non-Kubernetes proxies.
envoy::config::cluster::v3::Cluster BuildInboundCluster(const InboundPort& port, const MeshOptions& options);

}  // namespace cmesh::compiler
