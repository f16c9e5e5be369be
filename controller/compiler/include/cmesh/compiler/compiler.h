// The model → Envoy xDS translation: a pure, deterministic function of its explicit inputs (the
// config, the proxy, the mesh options). No clocks, no globals, no I/O; the same inputs always give
// byte-identical output.
#pragma once

#include <memory>

#include "cmesh/compiler/mesh_options.h"
#include "cmesh/compiler/proxy_node.h"
#include "cmesh/compiler/xds_resources.h"
#include "cmesh/model/config_set.h"

namespace cmesh::compiler {

// Everything the compiler derives from a ConfigSet once, independent of any proxy: services by
// FQDN, VirtualServices and DestinationRules by host, endpoints per service port. Immutable once
// built; shared by all compilations over the same config.
class ConfigIndex;

std::shared_ptr<const ConfigIndex> BuildIndex(std::shared_ptr<const model::ConfigSet> config,
                                              const MeshOptions& options);

// Compiles the resources for `proxy`.
XdsResources Compile(const ConfigIndex& index, const ProxyNode& proxy, const MeshOptions& options);

}  // namespace cmesh::compiler
