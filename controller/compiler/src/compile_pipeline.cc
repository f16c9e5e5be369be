#include "compile_pipeline.h"

#include "cmesh/compiler/compiler.h"

#include <algorithm>
#include <set>

#include "cluster_builder.h"
#include "cluster_names.h"
#include "endpoint_builder.h"
#include "hash.h"
#include "host_names.h"
#include "listener_builder.h"
#include "proxy_view.h"
#include "route_builder.h"
#include "virtual_service_routes.h"

namespace cmesh::compiler {
namespace {

const std::string& NameOf(const envoy::config::endpoint::v3::ClusterLoadAssignment& r) { return r.cluster_name(); }
template <typename T>
const std::string& NameOf(const T& r) {
  return r.name();
}

// Produces one resource type. With a state, a resource whose key is unchanged is taken from the
// previous output (sorted by name, so found by binary search) instead of being rebuilt.
template <typename T>
class Producer {
 public:
  Producer(std::vector<Versioned<T>>* out, std::unordered_map<std::string, ReuseState::Entry>* state,
           uint64_t generation, std::vector<std::string>* warnings)
      : out_(out), state_(state), generation_(generation), warnings_(warnings) {
    if (state_ != nullptr) {
      previous_ = std::move(*out_);
      // Names are copied: a resource moved out of previous_ loses its name, which would break
      // the binary search.
      previous_names_.reserve(previous_.size());
      for (const auto& p : previous_) previous_names_.push_back(NameOf(p.resource));
    }
    out_->clear();
    out_->reserve(previous_.size());
  }

  // The previous output's resource named `name` when its version is `version`, else nullptr.
  Versioned<T>* Previous(const std::string& name, const std::string& version) {
    auto it = std::lower_bound(previous_names_.begin(), previous_names_.end(), name);
    if (it == previous_names_.end() || *it != name) return nullptr;
    Versioned<T>& prev = previous_[static_cast<size_t>(it - previous_names_.begin())];
    if (prev.version != version) return nullptr;  // already taken (moved from), or not ours
    return &prev;
  }

  template <typename Build>
  void Add(const std::string& name, uint64_t key, Build&& build) {
    ReuseState::Entry* entry = nullptr;
    if (state_ != nullptr) {
      entry = &(*state_)[name];
      if (entry->generation != 0 && entry->key == key) {
        if (Versioned<T>* prev = Previous(name, entry->version)) {
          out_->push_back(std::move(*prev));
          warnings_->insert(warnings_->end(), entry->warnings.begin(), entry->warnings.end());
          entry->generation = generation_;
          return;
        }
      }
    }
    std::vector<std::string> warnings;
    Versioned<T> v;
    v.resource = build(&warnings);
    v.version = HexDigest(HashMessage(v.resource));
    warnings_->insert(warnings_->end(), warnings.begin(), warnings.end());
    if (entry != nullptr) *entry = ReuseState::Entry{key, v.version, std::move(warnings), generation_};
    out_->push_back(std::move(v));
  }

  // Adds an already versioned resource (the caller patched or built it).
  void AddBuilt(const std::string& name, uint64_t key, Versioned<T> v, const std::vector<std::string>& warnings) {
    warnings_->insert(warnings_->end(), warnings.begin(), warnings.end());
    if (state_ != nullptr) (*state_)[name] = ReuseState::Entry{key, v.version, warnings, generation_};
    out_->push_back(std::move(v));
  }

  void Finish() {
    std::sort(out_->begin(), out_->end(),
              [](const Versioned<T>& a, const Versioned<T>& b) { return NameOf(a.resource) < NameOf(b.resource); });
    if (state_ != nullptr) {
      std::erase_if(*state_, [&](const auto& kv) { return kv.second.generation != generation_; });
    }
  }

 private:
  std::vector<Versioned<T>>* out_;
  std::unordered_map<std::string, ReuseState::Entry>* state_;
  uint64_t generation_;
  std::vector<std::string>* warnings_;
  std::vector<Versioned<T>> previous_;
  std::vector<std::string> previous_names_;
};

// Identifies an output list cheaply: every resource's version is a hash of its content, name
// included, so the versions in order identify the list.
template <typename T>
std::string Fingerprint(const std::vector<Versioned<T>>& items) {
  Hasher h;
  h.Add(static_cast<uint64_t>(items.size()));
  for (const auto& i : items) h.Add(i.version);
  return HexDigest(h.Digest());
}

uint64_t LabelsKey(const model::Labels& labels, const std::set<std::string>& relevant) {
  Hasher h;
  for (const auto& [k, v] : labels) {
    if (relevant.count(k) > 0) h.Add(k).Add(v);
  }
  return h.Digest();
}

void AddDestinationKeys(const IndexedVirtualService& ivs, const ProxyView& view, Hasher& h) {
  for (const auto& fqdn : ivs.http_destinations) {
    const IndexedService* dst = view.FindService(fqdn);
    h.Add(fqdn).Add(dst ? dst->key : 0);
    h.Add(view.RuleForHost(fqdn, dst ? dst->service->meta.ns : std::string()).key);
  }
}

// Every input of a virtual host's routes: the service, the port, the proxy (namespace and
// relevant labels, in `base`), the options, the owning VirtualService, the delegate
// VirtualServices its rules name (0 when missing, so one appearing changes the key), and for
// each destination host of either its service and rule. Its domains depend on the service and
// the proxy's namespace only.
uint64_t RoutesKey(const IndexedService& svc, uint32_t port, const ProxyView& view, uint64_t base) {
  Hasher h;
  h.Add(base).Add(svc.key).Add(static_cast<uint64_t>(port)).Add(view.RuleFor(svc).key);
  if (const auto* ivs = view.VirtualServiceFor(svc.fqdn)) {
    h.Add(ivs->key);
    AddDestinationKeys(*ivs, view, h);
    for (const auto& rule : ivs->vs->http) {
      if (!rule.delegate) continue;
      const IndexedVirtualService* delegate = view.index().FindDelegate(*rule.delegate, ivs->vs->meta.ns);
      h.Add(delegate != nullptr ? delegate->key : 0);
      if (delegate != nullptr) AddDestinationKeys(*delegate, view, h);
    }
  }
  return h.Digest();
}

uint64_t DomainsKey(const IndexedService& svc, const ProxyView& view) {
  return Hasher().Add(svc.key).Add(svc.fqdn).Add(view.proxy().ns).Digest();
}

// A route configuration's version: the hash of its own fields' deterministic serialisation and of
// each virtual host's (`host_hashes`, in order), so that patching one virtual host re-hashes only
// that host. Equal content always gives equal versions, whichever path built it.
std::string RouteConfigVersion(envoy::config::route::v3::RouteConfiguration& rc,
                               const std::vector<uint64_t>& host_hashes) {
  google::protobuf::RepeatedPtrField<envoy::config::route::v3::VirtualHost> hosts;
  hosts.Swap(rc.mutable_virtual_hosts());
  Hasher h;
  h.Add(HashMessage(rc)).Add(static_cast<uint64_t>(host_hashes.size()));
  hosts.Swap(rc.mutable_virtual_hosts());
  for (uint64_t x : host_hashes) h.Add(x);
  return HexDigest(h.Digest());
}

// One outbound HTTP port's route configuration. With a state and an unchanged set of virtual
// hosts and domains, the previous configuration is patched in place: only the routes of hosts
// whose inputs changed are rebuilt (domain de-duplication cannot change, since no domain did).
void ProduceRouteConfig(uint32_t port, const ProxyView& view, uint64_t proxy_key, const MeshOptions& options,
                        ReuseState* state, uint64_t generation,
                        Producer<envoy::config::route::v3::RouteConfiguration>& routes) {
  const std::string name = std::to_string(port);
  ReuseState::RouteConfigPlan plan;
  plan.generation = generation;
  std::vector<const IndexedService*> hosts;
  for (const IndexedService* svc : view.services()) {
    bool has_port = std::any_of(svc->ports.begin(), svc->ports.end(), [&](const IndexedPort& p) {
      return p.port->port == port && HasHttpRoutes(p.protocol);
    });
    if (!has_port) continue;
    hosts.push_back(svc);
    plan.host_names.push_back(svc->fqdn + ":" + name);
    plan.domain_keys.push_back(DomainsKey(*svc, view));
    plan.route_keys.push_back(RoutesKey(*svc, port, view, proxy_key));
  }
  Hasher config_key;
  config_key.Add(proxy_key).Add(static_cast<uint64_t>(port));
  for (size_t i = 0; i < hosts.size(); ++i) config_key.Add(plan.domain_keys[i]).Add(plan.route_keys[i]);
  const uint64_t key = config_key.Digest();

  if (state != nullptr) {
    auto entry = state->routes.find(name);
    auto old_plan = state->route_plans.find(name);
    if (entry != state->routes.end() && old_plan != state->route_plans.end() &&
        old_plan->second.host_names == plan.host_names && old_plan->second.domain_keys == plan.domain_keys) {
      if (auto* prev = routes.Previous(name, entry->second.version)) {
        Versioned<envoy::config::route::v3::RouteConfiguration> patched = std::move(*prev);
        std::vector<std::string> warnings;
        auto& rc = patched.resource;
        bool changed = false;
        plan.route_warnings.resize(hosts.size());
        plan.host_hashes = std::move(old_plan->second.host_hashes);
        // Virtual hosts are in plan order (assembly drops none when domains did not collide
        // before; a plan whose assembly dropped a host is never patched, see below).
        for (size_t i = 0; i < hosts.size(); ++i) {
          if (old_plan->second.route_keys[i] == plan.route_keys[i]) {
            plan.route_warnings[i] = std::move(old_plan->second.route_warnings[i]);
          } else {
            auto vh = BuildVirtualHost(*hosts[i], port, view, &plan.route_warnings[i]);
            auto* target = rc.mutable_virtual_hosts(static_cast<int>(i));
            target->mutable_routes()->Swap(vh.mutable_routes());
            plan.host_hashes[i] = HashMessage(*target);
            changed = true;
          }
          warnings.insert(warnings.end(), plan.route_warnings[i].begin(), plan.route_warnings[i].end());
        }
        if (changed) patched.version = RouteConfigVersion(rc, plan.host_hashes);
        routes.AddBuilt(name, key, std::move(patched), warnings);
        old_plan->second = std::move(plan);
        return;
      }
    }
  }
  std::vector<envoy::config::route::v3::VirtualHost> vhosts;
  vhosts.reserve(hosts.size());
  plan.route_warnings.resize(hosts.size());
  std::vector<std::string> warnings;
  for (size_t i = 0; i < hosts.size(); ++i) {
    vhosts.push_back(BuildVirtualHost(*hosts[i], port, view, &plan.route_warnings[i]));
    warnings.insert(warnings.end(), plan.route_warnings[i].begin(), plan.route_warnings[i].end());
  }
  Versioned<envoy::config::route::v3::RouteConfiguration> built;
  built.resource = AssembleRouteConfig(port, std::move(vhosts), options);
  for (const auto& vh : built.resource.virtual_hosts()) plan.host_hashes.push_back(HashMessage(vh));
  built.version = RouteConfigVersion(built.resource, plan.host_hashes);
  // Patching relies on virtual host i being plan entry i: true unless de-duplication dropped a
  // host, in which case this configuration is always assembled from scratch.
  const bool patchable = built.resource.virtual_hosts_size() == static_cast<int>(hosts.size()) + 1;
  routes.AddBuilt(name, key, std::move(built), warnings);
  if (state != nullptr) {
    if (patchable) {
      state->route_plans[name] = std::move(plan);
    } else {
      state->route_plans.erase(name);
    }
  }
}

}  // namespace

void CompileWithState(const ConfigIndex& index, const ProxyNode& proxy, const MeshOptions& options,
                      ReuseState* state, XdsResources* out) {
  ProxyView view(index, proxy, options);
  out->warnings = index.warnings;
  const uint64_t generation = state != nullptr ? ++state->generation : 0;
  const uint64_t options_key = OptionsKey(options);
  // Inputs every proxy-specific resource depends on.
  const bool ipv6_proxy = IsIpv6Proxy(view.proxy());
  const uint64_t proxy_key = Hasher()
                                 .Add(options_key)
                                 .Add(view.proxy().ns)
                                 .Add(LabelsKey(view.labels(), index.relevant_label_keys))
                                 .Add(uint64_t{ipv6_proxy ? 6u : 4u})
                                 .Digest();

  // CDS and EDS depend on the services and endpoints, the DestinationRules, the proxy and the
  // options only; when none of them changed (e.g. only a VirtualService did), keep them as they are.
  const uint64_t cds_inputs_key = Hasher().Add(proxy_key).Add(options_key).Digest();
  const bool cds_unchanged = state != nullptr && state->services == index.services &&
                             state->rules == index.destination_rules && state->cds_inputs_key == cds_inputs_key &&
                             !state->clusters_version.empty() && Fingerprint(out->clusters) == state->clusters_version &&
                             Fingerprint(out->endpoints) == state->endpoints_version;
  if (cds_unchanged) {
    for (const auto& [name, entry] : state->clusters) {
      out->warnings.insert(out->warnings.end(), entry.warnings.begin(), entry.warnings.end());
    }
    for (const auto& [name, entry] : state->endpoints) {
      out->warnings.insert(out->warnings.end(), entry.warnings.begin(), entry.warnings.end());
    }
  } else {
    Producer<envoy::config::cluster::v3::Cluster> clusters(&out->clusters, state ? &state->clusters : nullptr, generation,
                                                           &out->warnings);
    Producer<envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints(
        &out->endpoints, state ? &state->endpoints : nullptr, generation, &out->warnings);
    for (const IndexedService* svc : view.services()) {
      const SelectedRule& rule = view.RuleFor(*svc);
      for (const IndexedPort& port : svc->ports) {
        if (port.protocol == Protocol::kUdp) continue;
        auto add = [&](const model::Subset* subset) {
          const std::string subset_name = subset ? subset->name : "";
          const std::string name = OutboundClusterName(port.port->port, subset_name, svc->fqdn);
          const uint64_t key =
              Hasher().Add(options_key).Add(svc->key).Add(rule.key).Add(name).Add(uint64_t{ipv6_proxy ? 6u : 4u}).Digest();
          bool eds = true;
          clusters.Add(name, key, [&](std::vector<std::string>* w) {
            return BuildOutboundCluster(*svc, port, rule.rule, subset, options, ipv6_proxy, w);
          });
          // Only EDS clusters have a ClusterLoadAssignment (PASSTHROUGH makes ORIGINAL_DST ones).
          const auto& built = out->clusters.back().resource;
          eds = built.type() == envoy::config::cluster::v3::Cluster::EDS;
          if (!eds) return;
          const uint64_t cla_key = Hasher().Add(port.endpoints_key).Add(rule.key).Add(name).Digest();
          endpoints.Add(name, cla_key, [&](std::vector<std::string>*) {
            return BuildLoadAssignment(name, port.endpoints, subset ? &subset->labels : nullptr);
          });
        };
        add(nullptr);
        if (rule.rule != nullptr) {
          for (const auto& subset : rule.rule->subsets) add(&subset);
        }
      }
    }
    clusters.Add(kPassthroughCluster, options_key, [&](auto*) { return BuildPassthroughCluster(options); });
    clusters.Add(kBlackHoleCluster, options_key, [&](auto*) { return BuildBlackHoleCluster(options); });
    clusters.Add(kInboundPassthroughCluster, options_key,
                 [&](auto*) { return BuildInboundPassthroughCluster(options); });
    for (const auto& p : InboundPorts(view)) {
      clusters.Add(InboundClusterName(p.target_port), options_key, [&](auto*) { return BuildInboundCluster(p, options); });
    }
    clusters.Finish();
    endpoints.Finish();
    if (state != nullptr) {
      state->services = index.services;
      state->rules = index.destination_rules;
      state->cds_inputs_key = cds_inputs_key;
      state->clusters_version = Fingerprint(out->clusters);
      state->endpoints_version = Fingerprint(out->endpoints);
    }
  }

  // RDS.
  const std::vector<uint32_t> http_ports = OutboundHttpPorts(view);
  {
    Producer<envoy::config::route::v3::RouteConfiguration> routes(&out->routes, state ? &state->routes : nullptr,
                                                                  generation, &out->warnings);
    for (uint32_t port : http_ports) {
      ProduceRouteConfig(port, view, proxy_key, options, state, generation, routes);
    }
    routes.Finish();
    if (state != nullptr) {
      std::erase_if(state->route_plans, [&](const auto& kv) { return kv.second.generation != generation; });
    }
  }

  // LDS (cheap: a handful of listeners, rebuilt every time).
  {
    Producer<envoy::config::listener::v3::Listener> listeners(&out->listeners, nullptr, 0, &out->warnings);
    listeners.Add("virtualOutbound", 0, [&](auto*) { return BuildVirtualOutbound(options); });
    const auto inbound = InboundPorts(view);
    listeners.Add("virtualInbound", 0, [&](auto*) { return BuildVirtualInbound(inbound, options); });
    for (uint32_t port : OutboundDeclaredHttpPorts(view)) {
      listeners.Add("0.0.0.0_" + std::to_string(port), 0, [&](auto*) { return BuildHttpOutboundListener(port); });
    }
    std::vector<std::string> tcp_warnings;
    for (auto& l : BuildTcpOutboundListeners(view, &tcp_warnings)) {
      std::string name = l.name();
      listeners.Add(name, 0, [&](auto*) { return std::move(l); });
    }
    out->warnings.insert(out->warnings.end(), tcp_warnings.begin(), tcp_warnings.end());
    listeners.Finish();
  }

  // Warnings from the per-proxy view (VirtualService conflicts, rule merges, inbound ports).
  out->warnings.insert(out->warnings.end(), view.warnings().begin(), view.warnings().end());
  std::sort(out->warnings.begin(), out->warnings.end());
  out->warnings.erase(std::unique(out->warnings.begin(), out->warnings.end()), out->warnings.end());
}

XdsResources Compile(const ConfigIndex& index, const ProxyNode& proxy, const MeshOptions& options) {
  XdsResources out;
  CompileWithState(index, proxy, options, nullptr, &out);
  return out;
}

}  // namespace cmesh::compiler
