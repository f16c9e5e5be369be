// What one proxy sees of the index: the Services, VirtualServices and DestinationRules visible to
// its namespace (exportTo), which VirtualService owns each host, and which DestinationRule
// applies to each service (Istio's lookup order). Built per compilation; cheap (linear).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cmesh/compiler/proxy_node.h"
#include "config_index.h"

namespace cmesh::compiler {

// The DestinationRule that applies to one service for one proxy; several rules for the same host
// in the same namespace are merged the way Istio merges them.
struct SelectedRule {
  const model::DestinationRule* rule = nullptr;  // nullptr: none applies
  uint64_t key = 0;                              // identity of every rule that went into it
  std::shared_ptr<const model::DestinationRule> merged;  // owns `rule` when merged
};

class ProxyView {
 public:
  ProxyView(const ConfigIndex& index, const ProxyNode& proxy, const MeshOptions& options);

  const ConfigIndex& index() const { return index_; }
  const ProxyNode& proxy() const { return proxy_; }
  const model::Labels& labels() const { return proxy_.labels; }
  // The options of this compilation (their domain_suffix must be the index's).
  const MeshOptions& options() const { return options_; }

  // Services visible to the proxy's namespace, sorted by fqdn.
  const std::vector<const IndexedService*>& services() const { return services_; }
  const IndexedService* FindService(const std::string& fqdn) const;

  // The VirtualService that owns `fqdn` for this proxy, or nullptr.
  const IndexedVirtualService* VirtualServiceFor(const std::string& fqdn) const;

  const SelectedRule& RuleFor(const IndexedService& service) const;
  // For destinations that may not be services (then the rule comes from host matching alone).
  const SelectedRule& RuleForHost(const std::string& fqdn, const std::string& service_ns) const;

  // Visible VirtualServices in Istio's precedence order (see proxy_view.cc).
  const std::vector<const IndexedVirtualService*>& virtual_services() const { return vs_order_; }

  // The pod behind the proxy, when the config has it.
  const model::Pod* pod() const { return pod_; }

  std::vector<std::string>& warnings() const { return warnings_; }

 private:
  SelectedRule SelectRule(const std::string& fqdn, const std::string& service_ns) const;

  const ConfigIndex& index_;
  const MeshOptions& options_;
  ProxyNode proxy_;
  const model::Pod* pod_ = nullptr;
  std::vector<const IndexedService*> services_;
  // Keys view strings owned by the index, which outlives the view: no copies per compilation.
  std::unordered_map<std::string_view, const IndexedService*> visible_by_fqdn_;
  std::vector<const IndexedVirtualService*> vs_order_;
  std::unordered_map<std::string_view, const IndexedVirtualService*> vs_by_host_;
  mutable std::unordered_map<std::string, SelectedRule> rules_;
  mutable std::vector<std::string> warnings_;
};

}  // namespace cmesh::compiler
