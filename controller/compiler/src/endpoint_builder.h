// EDS: the ClusterLoadAssignment of one outbound cluster.
#pragma once

#include <string>
#include <vector>

#include "cmesh/model/common.h"
#include "cmesh/model/endpoints.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace cmesh::compiler {

// Endpoints whose pod labels contain `subset_labels` (all of them for the default cluster),
// grouped by locality (zone; an empty locality when unknown, always present), each with weight 1
// and HEALTHY or UNHEALTHY from readiness. Each locality's weight is its endpoint count.
envoy::config::endpoint::v3::ClusterLoadAssignment BuildLoadAssignment(
    const std::string& cluster_name, const std::vector<model::ResolvedEndpoint>& endpoints,
    const model::Labels* subset_labels);

}  // namespace cmesh::compiler
