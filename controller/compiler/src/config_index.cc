#include "config_index.h"

#include <algorithm>

#include "cmesh/compiler/compiler.h"
#include "hash.h"
#include "host_names.h"

namespace cmesh::compiler {

uint64_t ObjectKey(std::string_view kind, const model::ObjectMeta& meta, const model::Origin& origin,
                   uint64_t fallback) {
  Hasher h;
  h.Add(kind).Add(meta.ns).Add(meta.name);
  h.Add(origin.content_hash != 0 ? origin.content_hash : fallback).Add(origin.content_hash != 0 ? 1 : 2);
  return h.Digest();
}

uint64_t OptionsKey(const MeshOptions& o) {
  Hasher h;
  h.Add(o.domain_suffix)
      .Add(static_cast<uint64_t>(o.outbound_policy))
      .Add(static_cast<uint64_t>(o.connect_timeout.nanos))
      .Add(o.root_namespace)
      .Add(static_cast<uint64_t>(o.outbound_port))
      .Add(static_cast<uint64_t>(o.inbound_port))
      .Add(static_cast<uint64_t>(o.dns_refresh_rate.nanos));
  return h.Digest();
}

namespace {

uint64_t EndpointsKey(const std::vector<model::ResolvedEndpoint>& endpoints) {
  Hasher h;
  h.Add(static_cast<uint64_t>(endpoints.size()));
  for (const auto& e : endpoints) {
    h.Add(e.address).Add(static_cast<uint64_t>(e.port)).Add(e.zone).Add(e.ready ? 1 : 0);
    h.Add(static_cast<uint64_t>(e.labels.size()));
    for (const auto& [k, v] : e.labels) h.Add(k).Add(v);
  }
  return h.Digest();
}

uint64_t Unique(uint64_t epoch, uint64_t position, uint64_t kind) {
  return Hasher().Add(epoch).Add(position).Add(kind).Digest();
}

}  // namespace

std::shared_ptr<const ServiceTable> BuildServiceTable(std::shared_ptr<const model::ConfigSet> config,
                                                      const MeshOptions& options, uint64_t epoch) {
  auto table = std::make_shared<ServiceTable>();
  table->config = config;
  model::EndpointIndex endpoints(*config);
  table->services.reserve(config->services.size());
  for (size_t i = 0; i < config->services.size(); ++i) {
    const model::Service& svc = config->services[i];
    // ExternalName services are DNS aliases: Istio gives them a DNS cluster to externalName (see
    // cluster_builder) and no endpoints of their own. Without an externalName there is nothing
    // to resolve (Kubernetes rejects that; AssembleIndex reports it).
    const bool external_name = svc.type == "ExternalName";
    if (external_name && svc.external_name.empty()) continue;
    IndexedService entry;
    entry.service = &svc;
    entry.fqdn = ServiceFqdn(svc.meta.name, svc.meta.ns, options.domain_suffix);
    entry.key = ObjectKey("Service", svc.meta, svc.origin, Unique(epoch, i, 1));
    for (const auto& port : svc.ports) {
      IndexedPort p;
      p.port = &port;
      p.protocol = PortProtocol(port);
      if (!external_name) p.endpoints = endpoints.Resolve(svc, port);
      p.endpoints_key = EndpointsKey(p.endpoints);
      entry.ports.push_back(std::move(p));
    }
    std::sort(entry.ports.begin(), entry.ports.end(), [](const IndexedPort& a, const IndexedPort& b) {
      return a.port->port < b.port->port;
    });
    table->services.push_back(std::move(entry));
  }
  // Sort by fqdn; a duplicate Service (same namespace/name in two files) keeps the first in
  // file order, which is deterministic for a given set of inputs.
  std::stable_sort(table->services.begin(), table->services.end(),
                   [](const IndexedService& a, const IndexedService& b) { return a.fqdn < b.fqdn; });
  table->services.erase(std::unique(table->services.begin(), table->services.end(),
                                    [](const IndexedService& a, const IndexedService& b) {
                                      return a.fqdn == b.fqdn;
                                    }),
                        table->services.end());
  for (size_t i = 0; i < table->services.size(); ++i) {
    table->by_fqdn.emplace(table->services[i].fqdn, i);
  }
  for (const auto& pod : config->pods) {
    table->pods.emplace(std::make_pair(pod.meta.ns, pod.meta.name), &pod);
  }
  return table;
}

std::shared_ptr<const RuleTable> BuildRuleTable(std::shared_ptr<const model::ConfigSet> config,
                                                const MeshOptions& options, uint64_t epoch) {
  auto table = std::make_shared<RuleTable>();
  table->config = config;
  for (size_t i = 0; i < config->destination_rules.size(); ++i) {
    const auto& dr = config->destination_rules[i];
    IndexedDestinationRule entry;
    entry.rule = &dr;
    entry.host = ResolveHost(dr.host, dr.meta.ns, options.domain_suffix);
    entry.key = ObjectKey("DestinationRule", dr.meta, dr.origin, Unique(epoch, i, 2));
    table->rules.push_back(std::move(entry));
  }
  std::stable_sort(table->rules.begin(), table->rules.end(),
                   [](const IndexedDestinationRule& a, const IndexedDestinationRule& b) {
                     return std::tie(a.rule->meta.ns, a.rule->meta.name) <
                            std::tie(b.rule->meta.ns, b.rule->meta.name);
                   });
  for (size_t i = 0; i < table->rules.size(); ++i) {
    if (IsWildcard(table->rules[i].host)) {
      table->wildcards.push_back(i);
    } else {
      table->by_host[table->rules[i].host].push_back(i);
    }
  }
  return table;
}

bool AppliesToMesh(const model::VirtualService& vs) {
  if (vs.gateways.empty()) return true;
  return std::find(vs.gateways.begin(), vs.gateways.end(), "mesh") != vs.gateways.end();
}

std::shared_ptr<const IndexedVirtualService> IndexVirtualService(std::shared_ptr<const model::VirtualService> vs,
                                          const MeshOptions& options, uint64_t fallback_key) {
  IndexedVirtualService entry;
  for (const auto& host : vs->hosts) {
    entry.hosts.push_back(ResolveHost(host, vs->meta.ns, options.domain_suffix));
  }
  for (const auto& rule : vs->http) {
    for (const auto& d : rule.route) {
      entry.http_destinations.push_back(ResolveHost(d.destination.host, vs->meta.ns, options.domain_suffix));
    }
    if (rule.mirror) entry.http_destinations.push_back(ResolveHost(rule.mirror->host, vs->meta.ns, options.domain_suffix));
    for (const auto& m : rule.mirrors) {
      entry.http_destinations.push_back(ResolveHost(m.destination.host, vs->meta.ns, options.domain_suffix));
    }
  }
  std::sort(entry.http_destinations.begin(), entry.http_destinations.end());
  entry.http_destinations.erase(std::unique(entry.http_destinations.begin(), entry.http_destinations.end()),
                                entry.http_destinations.end());
  entry.key = ObjectKey("VirtualService", vs->meta, vs->origin, fallback_key);
  entry.vs = std::move(vs);
  return std::make_shared<const IndexedVirtualService>(std::move(entry));
}

std::shared_ptr<const ConfigIndex> AssembleIndex(const MeshOptions& options,
                                                 std::shared_ptr<const ServiceTable> services,
                                                 std::shared_ptr<const RuleTable> rules,
                                                 std::shared_ptr<const VirtualServiceTable> vss) {
  auto index = std::make_shared<ConfigIndex>();
  index->options = options;
  index->options_key = OptionsKey(options);
  for (const auto& svc : services->services) {
    for (const auto& [k, v] : svc.service->selector) index->relevant_label_keys.insert(k);
  }
  for (const auto& svc : services->config->services) {
    if (svc.type == "ExternalName" && svc.external_name.empty()) {
      index->warnings.push_back("Service " + svc.meta.ns + "/" + svc.meta.name +
                                ": type ExternalName without spec.externalName has nothing to resolve and is ignored");
    }
  }
  for (const auto& r : rules->rules) {
    for (const auto& [k, v] : r.rule->workload_selector) index->relevant_label_keys.insert(k);
  }
  for (const auto& ivs : *vss) {
    index->virtual_services_by_name.emplace(ivs->vs->meta.ns + "/" + ivs->vs->meta.name, ivs.get());
  }
  std::set<const IndexedVirtualService*> delegated;
  for (const auto& ivs : *vss) {
    const auto& vs = *ivs->vs;
    for (const auto& rule : vs.http) {
      if (rule.delegate) delegated.insert(index->FindDelegate(*rule.delegate, vs.meta.ns));
    }
  }
  for (const auto& ivs : *vss) {
    const auto& vs = *ivs->vs;
    // A hostless VirtualService only works through a root's delegate: say when nothing uses it.
    if (vs.hosts.empty() && delegated.count(ivs.get()) == 0) {
      index->warnings.push_back("VirtualService " + vs.meta.ns + "/" + vs.meta.name +
                                ": it has no hosts, so it is a delegate, but no VirtualService delegates to it; "
                                "it has no effect");
    }
    for (const auto& rule : vs.http) {
      for (const auto& m : rule.match) {
        for (const auto& [k, v] : m.source_labels) index->relevant_label_keys.insert(k);
      }
    }
    for (const auto& rule : vs.tcp) {
      for (const auto& m : rule.match) {
        for (const auto& [k, v] : m.source_labels) index->relevant_label_keys.insert(k);
      }
    }
    if (vs.tls_route_count > 0) {
      index->warnings.push_back("VirtualService " + vs.meta.ns + "/" + vs.meta.name +
                                ": tls routes are not supported yet and are ignored");
    }
  }
  index->services = std::move(services);
  index->destination_rules = std::move(rules);
  index->virtual_services = std::move(vss);
  return index;
}

const IndexedVirtualService* ConfigIndex::FindDelegate(const model::Delegate& delegate,
                                                       const std::string& root_ns) const {
  auto it = virtual_services_by_name.find((delegate.ns.empty() ? root_ns : delegate.ns) + "/" + delegate.name);
  return it == virtual_services_by_name.end() ? nullptr : it->second;
}

void SortVirtualServices(VirtualServiceTable& vss) {
  std::stable_sort(vss.begin(), vss.end(), [](const auto& a, const auto& b) {
    return std::tie(a->vs->meta.ns, a->vs->meta.name) < std::tie(b->vs->meta.ns, b->vs->meta.name);
  });
}

std::shared_ptr<const VirtualServiceTable> BuildVirtualServiceTable(
    std::shared_ptr<const model::ConfigSet> config, const MeshOptions& options, uint64_t epoch) {
  auto vss = std::make_shared<VirtualServiceTable>();
  for (size_t i = 0; i < config->virtual_services.size(); ++i) {
    const auto& vs = config->virtual_services[i];
    if (!AppliesToMesh(vs)) continue;
    // Aliasing shared_ptr: shares ownership of the whole config, points at one element.
    std::shared_ptr<const model::VirtualService> ptr(config, &vs);
    vss->push_back(IndexVirtualService(std::move(ptr), options, Unique(epoch, i, 3)));
  }
  SortVirtualServices(*vss);
  return vss;
}

std::shared_ptr<const ConfigIndex> BuildIndexWithEpoch(std::shared_ptr<const model::ConfigSet> config,
                                                       const MeshOptions& options, uint64_t epoch) {
  return AssembleIndex(options, BuildServiceTable(config, options, epoch), BuildRuleTable(config, options, epoch),
                       BuildVirtualServiceTable(config, options, epoch));
}

std::shared_ptr<const ConfigIndex> BuildIndex(std::shared_ptr<const model::ConfigSet> config,
                                              const MeshOptions& options) {
  return BuildIndexWithEpoch(std::move(config), options, 0);
}

}  // namespace cmesh::compiler
