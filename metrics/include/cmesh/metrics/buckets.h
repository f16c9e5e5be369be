// Histogram bucket bounds that match Istio's, so dashboards written for Istio read ours.
#pragma once

#include <vector>

namespace cmesh::metrics {

// Seconds, as istiod's pilot_xds_push_time and pilot_debounce_time use.
const std::vector<double>& PushTimeSecondsBuckets();

// Seconds, as istiod's pilot_proxy_convergence_time and pilot_proxy_queue_time use.
const std::vector<double>& ConvergenceSecondsBuckets();

// Milliseconds, Envoy's default histogram buckets, which Istio's sidecar uses for
// istio_request_duration_milliseconds (0.5 ms up to one hour).
const std::vector<double>& RequestDurationMillisecondsBuckets();

}  // namespace cmesh::metrics
