// The admin port (127.0.0.1:15000, Envoy's admin paths), the health port (/healthz/ready, as the
// kubelet probes Istio's sidecar on 15021) and the stats port (/stats/prometheus on 15090).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "cmesh/admin_http/http_server.h"
#include "cmesh/metrics/registry.h"
#include "cmesh/proxy_core/config_snapshot.h"
#include "cmesh/proxy_core/worker.h"
#include "cmesh/xds_client/xds_client.h"
#include "proxy_metrics.h"

namespace cmesh::proxy {

// What the handlers read; written by the xDS callback and main.
struct AdminState {
  std::mutex mutex;
  proxy_core::ConfigSnapshotPtr snapshot;  // the one the workers use
  std::vector<std::string> snapshot_errors;
  std::atomic<bool> ready{false};  // a complete configuration has reached the workers
  std::atomic<bool> draining{false};
};

struct AdminContext {
  AdminState& state;
  metrics::Registry& registry;
  ProxyMetrics& metrics;
  xds_client::XdsClient& xds;
  std::vector<proxy_core::Worker*> workers;
  std::function<void()> drain_listeners;
  std::function<void()> quit;
};

admin_http::HttpResponse HandleAdmin(AdminContext& context, const admin_http::HttpRequest& request);
admin_http::HttpResponse HandleHealth(AdminContext& context, const admin_http::HttpRequest& request);
admin_http::HttpResponse HandleStats(AdminContext& context, const admin_http::HttpRequest& request);

}  // namespace cmesh::proxy
