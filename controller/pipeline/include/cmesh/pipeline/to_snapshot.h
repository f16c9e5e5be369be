// The adapter from the compiler's output to an xDS snapshot.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cmesh/compiler/xds_resources.h"
#include "cmesh/xds/resource_interner.h"
#include "cmesh/xds/snapshot.h"

namespace cmesh::pipeline {

struct SnapshotResult {
  xds::SnapshotPtr snapshot;        // null when errors is not empty
  std::vector<std::string> errors;  // duplicate names, dangling RDS/EDS references
  bool ok() const { return errors.empty() && snapshot != nullptr; }
};

// Builds each resource through `interner` with the compiler's content-hash version, so a
// resource identical in many groups (or unchanged since the last config) is serialised once and
// shared. The per-type versions are the compiler's own digests. An inconsistent result (a
// listener's RDS name without its RouteConfiguration, an EDS cluster without its assignment) is
// an error and no snapshot is returned: it must never be published.
SnapshotResult ToSnapshot(const compiler::XdsResources& resources, xds::ResourceInterner& interner);

}  // namespace cmesh::pipeline
