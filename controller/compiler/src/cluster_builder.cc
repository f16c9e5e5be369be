#include "cluster_builder.h"

#include <algorithm>
#include <map>

#include "cluster_names.h"
#include "host_names.h"
#include "proto_util.h"
#include "traffic_policy.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace cmesh::compiler {

using envoy::config::cluster::v3::Cluster;

namespace {

// Istio's cluster for a DNS-resolved service (an ExternalName Service converts to resolution
// DNS): STRICT_DNS with the externalName at the service port as its one endpoint (no locality
// known: `{}`), the DNS family of the proxy's own address, the record's TTL respected and the
// mesh refresh rate otherwise. A subset keeps the endpoint only when the Service's labels
// (which Istio gives the ExternalName endpoint) satisfy the subset's labels.
void MakeDnsCluster(const IndexedService& service, const IndexedPort& port, const model::Subset* subset,
                    bool ipv6_proxy, const MeshOptions& options, Cluster* cluster) {
  cluster->set_type(Cluster::STRICT_DNS);
  cluster->set_dns_lookup_family(ipv6_proxy ? Cluster::V6_ONLY : Cluster::V4_ONLY);
  cluster->set_respect_dns_ttl(true);
  SetDuration(options.dns_refresh_rate, cluster->mutable_dns_refresh_rate());
  auto* cla = cluster->mutable_load_assignment();
  cla->set_cluster_name(cluster->name());
  if (subset != nullptr && !LabelsContain(service.service->meta.labels, subset->labels)) return;
  auto* locality = cla->add_endpoints();
  locality->mutable_locality();
  auto* lb = locality->add_lb_endpoints();
  auto* addr = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
  addr->set_address(service.service->external_name);
  addr->set_port_value(port.port->port);
  lb->mutable_load_balancing_weight()->set_value(1);
  locality->mutable_load_balancing_weight()->set_value(1);
}

}  // namespace

bool IsIpv6Proxy(const ProxyNode& proxy) { return proxy.ip.find(':') != std::string::npos; }

Cluster BuildOutboundCluster(const IndexedService& service, const IndexedPort& port,
                             const model::DestinationRule* rule, const model::Subset* subset,
                             const MeshOptions& options, bool ipv6_proxy, std::vector<std::string>* warnings) {
  Cluster cluster;
  cluster.set_name(OutboundClusterName(port.port->port, subset ? subset->name : "", service.fqdn));
  if (service.service->type == "ExternalName") {
    MakeDnsCluster(service, port, subset, ipv6_proxy, options, &cluster);
  } else {
    cluster.set_type(Cluster::EDS);
    auto* eds = cluster.mutable_eds_cluster_config();
    SetAds(eds->mutable_eds_config());
    eds->set_service_name(cluster.name());
  }
  SetDuration(options.connect_timeout, cluster.mutable_connect_timeout());
  cluster.set_lb_policy(Cluster::ROUND_ROBIN);
  std::string context = "cluster " + cluster.name();
  if (rule != nullptr) {
    context += " (DestinationRule " + rule->meta.ns + "/" + rule->meta.name + ")";
  }
  ApplyPolicy(ResolvePolicy(rule, subset, port.port->port), port.protocol, &cluster, context, warnings);
  return cluster;
}

Cluster BuildPassthroughCluster(const MeshOptions& options) {
  Cluster cluster;
  cluster.set_name(kPassthroughCluster);
  cluster.set_type(Cluster::ORIGINAL_DST);
  SetDuration(options.connect_timeout, cluster.mutable_connect_timeout());
  cluster.set_lb_policy(Cluster::CLUSTER_PROVIDED);
  return cluster;
}

Cluster BuildBlackHoleCluster(const MeshOptions& options) {
  Cluster cluster;
  cluster.set_name(kBlackHoleCluster);
  cluster.set_type(Cluster::STATIC);
  SetDuration(options.connect_timeout, cluster.mutable_connect_timeout());
  return cluster;
}

Cluster BuildInboundPassthroughCluster(const MeshOptions& options) {
  Cluster cluster = BuildPassthroughCluster(options);
  cluster.set_name(kInboundPassthroughCluster);
  // As Istio's: connections to the pod's own address leave from 127.0.0.6 (::6 over IPv6), which
  // the pod's iptables rules (cmesh-init) exempt, so they reach the app instead of coming back to
  // 15006.
  auto* bind = cluster.mutable_upstream_bind_config();
  bind->mutable_source_address()->set_address("127.0.0.6");
  bind->mutable_source_address()->set_port_value(0);
  auto* v6 = bind->add_extra_source_addresses()->mutable_address();  // for IPv6 pods
  v6->set_address("::6");
  v6->set_port_value(0);
  return cluster;
}

std::vector<InboundPort> InboundPorts(const ProxyView& view) {
  std::map<uint32_t, InboundPort> ports;
  const model::Pod* pod = view.pod();
  for (const IndexedService* svc : view.services()) {
    const model::Service& s = *svc->service;
    // Same namespace, a non-empty selector that the proxy's labels satisfy: the service sends
    // its traffic to this workload.
    if (s.meta.ns != view.proxy().ns || s.selector.empty() || !LabelsContain(view.labels(), s.selector)) continue;
    for (const auto& p : svc->ports) {
      if (p.protocol == Protocol::kUdp) continue;
      uint32_t target = p.port->port;
      if (p.port->target_port.IsName()) {
        target = 0;
        if (pod != nullptr) {
          for (const auto& cp : pod->ports) {
            if (cp.name == p.port->target_port.name) target = cp.container_port;
          }
        }
        if (target == 0) {
          view.warnings().push_back("service " + svc->fqdn + " port " + std::to_string(p.port->port) +
                                    ": named target port \"" + p.port->target_port.name +
                                    "\" cannot be resolved: the proxy's pod is not in the config; no inbound cluster");
          continue;
        }
      } else if (p.port->target_port.number != 0) {
        target = p.port->target_port.number;
      }
      ports.emplace(target, InboundPort{target, p.protocol, svc->fqdn});
    }
  }
  std::vector<InboundPort> out;
  for (auto& [_, p] : ports) out.push_back(std::move(p));
  return out;
}

Cluster BuildInboundCluster(const InboundPort& port, const MeshOptions& options) {
  Cluster cluster;
  cluster.set_name(InboundClusterName(port.target_port));
  cluster.set_type(Cluster::STATIC);
  SetDuration(options.connect_timeout, cluster.mutable_connect_timeout());
  cluster.set_lb_policy(Cluster::ROUND_ROBIN);
  auto* cla = cluster.mutable_load_assignment();
  cla->set_cluster_name(cluster.name());
  auto* addr = cla->add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
  addr->set_address("127.0.0.1");
  addr->set_port_value(port.target_port);
  // Which service this is, as Istio's inbound clusters say it (the proxy's metrics report it as
  // the destination_service of inbound requests). Only `host` of Istio's {host, name, namespace}:
  // a Struct's fields are a map, which protobuf prints in no fixed order, and the output must be
  // byte-identical for the same input; name and namespace are the host's first two labels.
  if (!port.service_fqdn.empty()) {
    auto& istio = (*cluster.mutable_metadata()->mutable_filter_metadata())["istio"];
    auto* service = (*istio.mutable_fields())["services"].mutable_list_value()->add_values()->mutable_struct_value();
    (*service->mutable_fields())["host"].set_string_value(port.service_fqdn);
  }
  // The app speaks the port's protocol: HTTP/2 for grpc/http2 ports (a gRPC server takes nothing
  // else), whatever the client spoke for an undeclared one, as Istio's inbound clusters do.
  if (IsHttp2(port.protocol) || IsSniffed(port.protocol)) {
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
    if (IsHttp2(port.protocol)) {
      options.mutable_explicit_http_config()->mutable_http2_protocol_options();
    } else {
      options.mutable_use_downstream_protocol_config()->mutable_http_protocol_options();
      options.mutable_use_downstream_protocol_config()->mutable_http2_protocol_options();
    }
    (*cluster.mutable_typed_extension_protocol_options())["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
        .PackFrom(options);
  }
  return cluster;
}

}  // namespace cmesh::compiler
