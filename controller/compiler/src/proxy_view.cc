#include "proxy_view.h"

#include <algorithm>
#include <tuple>

#include "hash.h"
#include "host_names.h"

namespace cmesh::compiler {
namespace {

std::string Ref(const model::ObjectMeta& meta) { return meta.ns + "/" + meta.name; }

// Istio's sidecars read VirtualServices in this order: those private to the proxy's namespace
// ("."), then those exported to it by name, then public ones; within a tier, oldest first.
// Files carry no creation time, so cmesh orders a tier by namespace/name instead.
int Tier(const model::VirtualService& vs, const std::string& proxy_ns) {
  const auto& e = vs.export_to;
  if (vs.meta.ns == proxy_ns && std::find(e.begin(), e.end(), ".") != e.end()) return 0;
  if (std::find(e.begin(), e.end(), proxy_ns) != e.end()) return 1;
  return 2;
}

// Istio's merge of several DestinationRules for one host: the first keeps its traffic policy
// (a later one's is used only when the first has none) and later rules add subsets whose
// names are new.
std::shared_ptr<const model::DestinationRule> Merge(
    const std::vector<const IndexedDestinationRule*>& rules, std::vector<std::string>& warnings) {
  auto merged = std::make_shared<model::DestinationRule>(*rules.front()->rule);
  for (size_t i = 1; i < rules.size(); ++i) {
    const auto& other = *rules[i]->rule;
    if (!merged->traffic_policy && other.traffic_policy) merged->traffic_policy = other.traffic_policy;
    for (const auto& subset : other.subsets) {
      bool exists = std::any_of(merged->subsets.begin(), merged->subsets.end(),
                                [&](const model::Subset& s) { return s.name == subset.name; });
      if (exists) {
        warnings.push_back("DestinationRule " + Ref(other.meta) + ": subset \"" + subset.name +
                           "\" is already defined by " + Ref(rules.front()->rule->meta) +
                           " for host " + rules.front()->host + "; ignored");
      } else {
        merged->subsets.push_back(subset);
      }
    }
  }
  return merged;
}

}  // namespace

ProxyView::ProxyView(const ConfigIndex& index, const ProxyNode& proxy, const MeshOptions& options)
    : index_(index), options_(options), proxy_(proxy) {
  const ServiceTable& table = *index.services;
  auto pod_it = table.pods.find({proxy.ns, proxy.pod_name});
  if (pod_it != table.pods.end()) pod_ = pod_it->second;
  // Without explicit labels the proxy takes its pod's labels from the config.
  if (proxy_.labels.empty() && pod_ != nullptr) proxy_.labels = pod_->meta.labels;

  services_.reserve(table.services.size());
  for (const auto& svc : table.services) {
    if (!VisibleTo(svc.service->export_to, svc.service->meta.ns, proxy_.ns)) continue;
    services_.push_back(&svc);
    visible_by_fqdn_.emplace(svc.fqdn, &svc);
  }

  for (const auto& vs : *index.virtual_services) {
    if (VisibleTo(vs->vs->export_to, vs->vs->meta.ns, proxy_.ns)) vs_order_.push_back(vs.get());
  }
  std::stable_sort(vs_order_.begin(), vs_order_.end(),
                   [&](const IndexedVirtualService* a, const IndexedVirtualService* b) {
                     return Tier(*a->vs, proxy_.ns) < Tier(*b->vs, proxy_.ns);
                   });

  // Exact hosts claim services first, then wildcard hosts take what is left. When two
  // VirtualServices name the same host, Istio's sidecars use only the first one (merging is a
  // gateway-only feature; `istioctl analyze` reports IST0109), so cmesh does the same and warns.
  for (const auto* vs : vs_order_) {
    for (const auto& host : vs->hosts) {
      if (IsWildcard(host)) continue;
      auto [it, inserted] = vs_by_host_.emplace(host, vs);
      if (!inserted && it->second != vs && visible_by_fqdn_.count(host) > 0) {
        warnings_.push_back("VirtualServices " + Ref(it->second->vs->meta) + " and " +
                            Ref(vs->vs->meta) + " both claim host " + host + "; only " +
                            Ref(it->second->vs->meta) +
                            " is used (Istio sidecars use the first, oldest one; cmesh orders by "
                            "export tier, then namespace/name)");
      }
    }
  }
  for (const auto* vs : vs_order_) {
    for (const auto& host : vs->hosts) {
      if (!IsWildcard(host) && visible_by_fqdn_.count(host) == 0) {
        // Istio would build a virtual host for any name; cmesh only knows Services (no
        // ServiceEntry yet), so say why nothing is generated for it.
        warnings_.push_back("VirtualService " + Ref(vs->vs->meta) + ": host " + host +
                            " matches no Service visible from namespace " + proxy_.ns +
                            "; no route is generated for it");
      }
    }
  }
  for (const auto* vs : vs_order_) {
    for (const auto& host : vs->hosts) {
      if (!IsWildcard(host)) continue;
      for (const auto* svc : services_) {
        if (HostMatches(host, svc->fqdn)) vs_by_host_.emplace(svc->fqdn, vs);
      }
    }
  }
}

const IndexedService* ProxyView::FindService(const std::string& fqdn) const {
  auto it = visible_by_fqdn_.find(fqdn);
  return it == visible_by_fqdn_.end() ? nullptr : it->second;
}

const IndexedVirtualService* ProxyView::VirtualServiceFor(const std::string& fqdn) const {
  auto it = vs_by_host_.find(fqdn);
  return it == vs_by_host_.end() ? nullptr : it->second;
}

const SelectedRule& ProxyView::RuleFor(const IndexedService& service) const {
  return RuleForHost(service.fqdn, service.service->meta.ns);
}

const SelectedRule& ProxyView::RuleForHost(const std::string& fqdn, const std::string& service_ns) const {
  auto it = rules_.find(fqdn);
  if (it != rules_.end()) return it->second;
  return rules_.emplace(fqdn, SelectRule(fqdn, service_ns)).first->second;
}

// Istio's order: a rule in the proxy's own namespace, then one exported from the service's
// namespace, then one from the root namespace. A workloadSelector rule applies only to
// matching proxies of its own namespace. Exact hosts beat wildcards; among wildcards the
// longest (most specific) wins.
SelectedRule ProxyView::SelectRule(const std::string& fqdn, const std::string& service_ns) const {
  const RuleTable& table = *index_.destination_rules;
  const std::string levels[3] = {proxy_.ns, service_ns, options_.root_namespace};
  auto eligible = [&](const IndexedDestinationRule& r, const std::string& level_ns) {
    const auto& dr = *r.rule;
    if (dr.meta.ns != level_ns) return false;
    if (!dr.workload_selector.empty()) {
      return dr.meta.ns == proxy_.ns && LabelsContain(proxy_.labels, dr.workload_selector);
    }
    if (dr.meta.ns == proxy_.ns) return true;
    return VisibleTo(dr.export_to, dr.meta.ns, proxy_.ns);
  };
  for (int level = 0; level < 3; ++level) {
    if (level > 0 && levels[level] == levels[level - 1]) continue;
    if (level == 2 && levels[2] == levels[0]) continue;
    std::vector<const IndexedDestinationRule*> found;
    if (auto it = table.by_host.find(fqdn); it != table.by_host.end()) {
      for (size_t i : it->second) {
        if (eligible(table.rules[i], levels[level])) found.push_back(&table.rules[i]);
      }
    }
    if (found.empty()) {
      size_t best_len = 0;
      for (size_t i : table.wildcards) {
        const auto& r = table.rules[i];
        if (!HostMatches(r.host, fqdn) || !eligible(r, levels[level])) continue;
        if (found.empty() || r.host.size() > best_len) {
          found.assign(1, &r);
          best_len = r.host.size();
        } else if (r.host.size() == best_len) {
          found.push_back(&r);
        }
      }
    }
    if (found.empty()) continue;
    // Rules with a matching workloadSelector take precedence over the namespace-wide ones.
    std::stable_sort(found.begin(), found.end(), [](const auto* a, const auto* b) {
      return !a->rule->workload_selector.empty() && b->rule->workload_selector.empty();
    });
    SelectedRule selected;
    Hasher key;
    for (const auto* r : found) key.Add(r->key);
    selected.key = key.Digest();
    if (found.size() == 1) {
      selected.rule = found.front()->rule;
    } else {
      selected.merged = Merge(found, warnings_);
      selected.rule = selected.merged.get();
    }
    return selected;
  }
  return SelectedRule{};
}

}  // namespace cmesh::compiler
