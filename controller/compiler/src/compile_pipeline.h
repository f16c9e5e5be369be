// The compilation pipeline shared by Compile() and IncrementalCompiler: it plans every resource
// of a proxy with a cache key made of all of its explicit inputs, and (with a ReuseState) keeps
// the previous output's resources whose key did not change instead of rebuilding them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cmesh/compiler/mesh_options.h"
#include "cmesh/compiler/proxy_node.h"
#include "cmesh/compiler/xds_resources.h"
#include "config_index.h"

namespace cmesh::compiler {

struct ReuseState {
  struct Entry {
    uint64_t key = 0;
    std::string version;
    std::vector<std::string> warnings;
    uint64_t generation = 0;  // the compilation that last produced or kept it
  };
  // What a route configuration was assembled from, to patch it in place next time.
  struct RouteConfigPlan {
    std::vector<std::string> host_names;  // virtual hosts in output order (allow_any excluded)
    std::vector<uint64_t> domain_keys;    // inputs of each host's domains
    std::vector<uint64_t> route_keys;     // inputs of each host's routes
    std::vector<std::vector<std::string>> route_warnings;
    std::vector<uint64_t> host_hashes;    // of every virtual host in the output, allow_any included
    uint64_t generation = 0;
  };
  uint64_t generation = 0;
  std::unordered_map<std::string, Entry> clusters, endpoints, routes, listeners;
  // The inputs of the whole CDS/EDS output last time (held, so their addresses stay unique), and
  // that output's type versions: when none changed, clusters and endpoints are left untouched.
  std::shared_ptr<const ServiceTable> services;
  std::shared_ptr<const RuleTable> rules;
  uint64_t cds_inputs_key = 0;
  std::string clusters_version, endpoints_version;
  std::unordered_map<std::string, RouteConfigPlan> route_plans;
};

// Compiles `proxy` into `out`. Without `state`, `out` is overwritten. With `state`, `out` must be
// the result of the previous call with the same state (or empty): resources whose inputs did not
// change are kept in place (no copy), the others rebuilt.
void CompileWithState(const ConfigIndex& index, const ProxyNode& proxy, const MeshOptions& options,
                      ReuseState* state, XdsResources* out);

}  // namespace cmesh::compiler
