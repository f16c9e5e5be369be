// DestinationRule traffic policies: which settings apply to one cluster (rule level, its
// port-level settings, the subset's own policy and its port-level settings), and how each one is
// written into an Envoy Cluster.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cmesh/model/destination_rule.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "protocol.h"

namespace cmesh::compiler {

struct EffectivePolicy {
  std::optional<model::LoadBalancerSettings> load_balancer;
  std::optional<model::ConnectionPoolSettings> connection_pool;
  std::optional<model::OutlierDetection> outlier_detection;
  std::optional<model::ClientTLSSettings> tls;
};

// Istio's MergeTrafficPolicy: each of the four settings is taken whole from the most specific
// place that sets it: subset port-level > subset > rule port-level > rule.
EffectivePolicy ResolvePolicy(const model::DestinationRule* rule, const model::Subset* subset,
                              uint32_t port);

// Writes the policy into `cluster` (an outbound cluster for a port of `protocol`). Settings cmesh
// does not implement yet are reported in `warnings`, never silently dropped.
void ApplyPolicy(const EffectivePolicy& policy, Protocol protocol, envoy::config::cluster::v3::Cluster* cluster,
                 const std::string& context, std::vector<std::string>* warnings);

// The route hash policy for a consistentHash load balancer (empty when there is none).
std::vector<envoy::config::route::v3::RouteAction::HashPolicy> HashPolicyFor(const EffectivePolicy& policy);

}  // namespace cmesh::compiler
