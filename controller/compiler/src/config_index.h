// The proxy-independent index of a ConfigSet (declared opaque in compiler.h). Built once per
// config and shared, immutable, by every compilation. Its parts are held by shared_ptr so the
// incremental compiler can replace one part (e.g. the VirtualServices) and keep the others.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cmesh/compiler/mesh_options.h"
#include "cmesh/model/config_set.h"
#include "cmesh/model/endpoints.h"
#include "protocol.h"

namespace cmesh::compiler {

struct IndexedPort {
  const model::ServicePort* port = nullptr;
  Protocol protocol = Protocol::kTcp;
  std::vector<model::ResolvedEndpoint> endpoints;  // sorted by address, port
  uint64_t endpoints_key = 0;                      // hash of `endpoints`
};

struct IndexedService {
  const model::Service* service = nullptr;
  std::string fqdn;
  uint64_t key = 0;  // identity of the Service's content (cache key input)
  std::vector<IndexedPort> ports;
};

struct ServiceTable {
  std::shared_ptr<const model::ConfigSet> config;  // keeps the pointees alive
  std::vector<IndexedService> services;            // sorted by fqdn, unique fqdn
  std::unordered_map<std::string, size_t> by_fqdn;
  std::map<std::pair<std::string, std::string>, const model::Pod*> pods;  // (ns, name)

  const IndexedService* Find(const std::string& fqdn) const {
    auto it = by_fqdn.find(fqdn);
    return it == by_fqdn.end() ? nullptr : &services[it->second];
  }
};

struct IndexedDestinationRule {
  const model::DestinationRule* rule = nullptr;
  std::string host;  // resolved against the rule's namespace
  uint64_t key = 0;
};

struct RuleTable {
  std::shared_ptr<const model::ConfigSet> config;
  std::vector<IndexedDestinationRule> rules;  // sorted by namespace/name
  std::unordered_map<std::string, std::vector<size_t>> by_host;  // exact hosts
  std::vector<size_t> wildcards;                                  // "*..." hosts
};

struct IndexedVirtualService {
  std::shared_ptr<const model::VirtualService> vs;
  std::vector<std::string> hosts;  // resolved against the VirtualService's namespace
  // Every destination host of its http routes and mirrors, resolved, sorted, unique (an input
  // of the cache keys of the virtual hosts it serves).
  std::vector<std::string> http_destinations;
  uint64_t key = 0;
};

// Entries are shared, so replacing one VirtualService copies pointers only.
using VirtualServiceTable = std::vector<std::shared_ptr<const IndexedVirtualService>>;

class ConfigIndex {
 public:
  MeshOptions options;
  uint64_t options_key = 0;
  std::shared_ptr<const ServiceTable> services;
  std::shared_ptr<const RuleTable> destination_rules;
  // Only VirtualServices that apply to sidecars (no `gateways`, or one of them is "mesh"),
  // sorted by namespace/name.
  std::shared_ptr<const VirtualServiceTable> virtual_services;
  // Every VirtualService of `virtual_services` by "namespace/name" (delegate lookups).
  std::unordered_map<std::string, const IndexedVirtualService*> virtual_services_by_name;
  // Label keys that can change a proxy's output: sourceLabels of VirtualService matches,
  // DestinationRule workloadSelectors and Service selectors.
  std::set<std::string> relevant_label_keys;
  std::vector<std::string> warnings;

  // The VirtualService `delegate` names from a rule of a VirtualService in `root_ns` (an empty
  // namespace means the root's), or nullptr.
  const IndexedVirtualService* FindDelegate(const model::Delegate& delegate, const std::string& root_ns) const;
};

// Puts the parts together and derives the index-wide fields (warnings, relevant label keys).
std::shared_ptr<const ConfigIndex> AssembleIndex(const MeshOptions& options,
                                                 std::shared_ptr<const ServiceTable> services,
                                                 std::shared_ptr<const RuleTable> rules,
                                                 std::shared_ptr<const VirtualServiceTable> vss);

// Identity of an object's content for cache keys: the parser's content hash when it set one,
// otherwise `fallback` (callers pass a value unique to this build so nothing is wrongly reused).
uint64_t ObjectKey(std::string_view kind, const model::ObjectMeta& meta, const model::Origin& origin,
                   uint64_t fallback);

uint64_t OptionsKey(const MeshOptions& options);

std::shared_ptr<const ServiceTable> BuildServiceTable(std::shared_ptr<const model::ConfigSet> config,
                                                      const MeshOptions& options, uint64_t epoch);
std::shared_ptr<const RuleTable> BuildRuleTable(std::shared_ptr<const model::ConfigSet> config,
                                                const MeshOptions& options, uint64_t epoch);
std::shared_ptr<const IndexedVirtualService> IndexVirtualService(std::shared_ptr<const model::VirtualService> vs,
                                          const MeshOptions& options, uint64_t fallback_key);
// Whether a VirtualService applies to sidecars at all.
bool AppliesToMesh(const model::VirtualService& vs);

std::shared_ptr<const VirtualServiceTable> BuildVirtualServiceTable(
    std::shared_ptr<const model::ConfigSet> config, const MeshOptions& options, uint64_t epoch);
// Sorted by namespace/name.
void SortVirtualServices(VirtualServiceTable& vss);

std::shared_ptr<const ConfigIndex> BuildIndexWithEpoch(std::shared_ptr<const model::ConfigSet> config,
                                                       const MeshOptions& options, uint64_t epoch);

}  // namespace cmesh::compiler
