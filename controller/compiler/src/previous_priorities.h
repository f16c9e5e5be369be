// The retry priority Istio uses for retries.retryRemoteLocalities: Envoy's previous_priorities,
// which moves each retry away from the priorities (locality tiers) already tried.
#pragma once

#include "envoy/config/route/v3/route_components.pb.h"

namespace cmesh::compiler {

// name "envoy.retry_priorities.previous_priorities", typed config
// envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig with
// update_frequency 2 (Istio's value: the priority load is recomputed every second attempt).
void SetPreviousPrioritiesRetry(envoy::config::route::v3::RetryPolicy* policy);

}  // namespace cmesh::compiler
