// cmesh-proxy: the sidecar. The xDS client (its own thread) turns each complete configuration
// into a ConfigSnapshot and posts it to the workers; N workers serve the outbound listener; the
// admin, health and stats ports run on threads of their own. SIGTERM drains: the listeners
// close, requests in flight get --drain-duration to finish, then the process exits 0.
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "admin.h"
#include "cmesh/logging/logger.h"
#include "cmesh/proxy_core/config_snapshot.h"
#include "cmesh/proxy_core/proxy_validator.h"
#include "cmesh/proxy_core/worker.h"
#include "cmesh/xds_client/xds_client.h"
#include "flags.h"
#include "proxy_metrics.h"

namespace cmesh::proxy {
namespace {

using logging::Log;
using logging::LogLevel;

constexpr char kVersion[] = "0.1.0";

// Istio's default access log format, reduced to what the proxy knows:
// [START] "METHOD PATH PROTOCOL" STATUS FLAGS BYTES_RECEIVED BYTES_SENT DURATION_MS
// "UPSTREAM_HOST" "CLUSTER" "ROUTE" "X-REQUEST-ID" "AUTHORITY"
std::string AccessLogLine(const proxy_core::RequestRecord& r) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char time[96];
  std::snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  const std::string protocol = r.protocol_major == 2 ? "HTTP/2" : "HTTP/1." + std::to_string(r.protocol_minor);
  return std::string("[") + time + "] \"" + r.method + " " + r.path + " " + protocol +
         "\" " + std::to_string(r.status) + " " + r.flags + " " + std::to_string(r.bytes_received) + " " +
         std::to_string(r.bytes_sent) + " " + std::to_string(r.duration.count() / 1000) + " \"" + r.upstream_host +
         "\" \"" + r.cluster + "\" \"" + r.route + "\" \"" + r.request_id + "\" \"" + r.authority + "\"\n";
}

int Run(const Flags& flags) {
  // A sidecar is small and long-lived: two malloc arenas instead of one per thread (gRPC starts
  // several) keep the idle footprint down; the workers allocate little on the request path.
  mallopt(M_ARENA_MAX, 2);
  logging::ConfigureLogging(flags.log_level, flags.log_format == "json");
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int access_log_fd = -1;
  if (flags.access_log == "-") {
    access_log_fd = STDOUT_FILENO;
  } else if (!flags.access_log.empty()) {
    access_log_fd = ::open(flags.access_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (access_log_fd < 0) {
      Log(LogLevel::kError, "cannot open --access-log " + flags.access_log);
      return 1;
    }
  }

  metrics::Registry registry;
  auto app = flags.labels.find("app");
  auto version = flags.labels.find("version");
  ProxyMetrics proxy_metrics(registry, {app == flags.labels.end() ? "unknown" : app->second, flags.namespace_name,
                                        version == flags.labels.end() ? "" : version->second});

  // Workers: the first binds (port 0 picks one), the others share its port.
  std::random_device seed_source;
  std::vector<std::unique_ptr<proxy_core::Worker>> workers;
  event::Endpoint outbound{flags.outbound_address, static_cast<std::uint16_t>(flags.outbound_port)};
  event::Endpoint inbound{flags.inbound_address, static_cast<std::uint16_t>(flags.inbound_port)};
  for (int i = 0; i < flags.concurrency; ++i) {
    proxy_core::WorkerOptions options;
    options.listen = {outbound};
    options.inbound_listen = {inbound};
    options.seed = (static_cast<std::uint64_t>(seed_source()) << 32) ^ seed_source() ^ static_cast<std::uint64_t>(i);
    options.on_request = [&proxy_metrics, access_log_fd](const proxy_core::RequestRecord& record) {
      proxy_metrics.RecordRequest(record);
      if (access_log_fd >= 0) {
        // One write per line on an O_APPEND descriptor: lines of different workers never interleave.
        const std::string line = AccessLogLine(record);
        [[maybe_unused]] ssize_t n = ::write(access_log_fd, line.data(), line.size());
      }
    };
    options.on_tcp = [&proxy_metrics](const proxy_core::TcpRecord& record, bool closed) {
      proxy_metrics.RecordTcp(record, closed);
    };
    auto worker = std::make_unique<proxy_core::Worker>(std::move(options));
    std::vector<event::Endpoint> bound;
    std::string error;
    if (!worker->Start(&bound, &error)) {
      Log(LogLevel::kError, "listeners: " + error);
      return 1;
    }
    if (i == 0) {
      outbound = bound.at(0);
      inbound = bound.at(1);
    }
    workers.push_back(std::move(worker));
  }
  Log(LogLevel::kInfo, "outbound listening on " + outbound.ToString() + " with " + std::to_string(flags.concurrency) +
                           " workers");
  Log(LogLevel::kInfo, "inbound listening on " + inbound.ToString());

  AdminState state;
  xds_client::XdsClientOptions xds_options;
  xds_options.server = flags.xds_address;
  xds_options.node_id = flags.node_id;
  xds_options.namespace_name = flags.namespace_name;
  xds_options.labels = flags.labels;
  xds_options.instance_ips = flags.instance_ips;
  xds_options.proxy_version = kVersion;
  // Route tables the validator compiles are the ones the snapshots use: compiled once.
  auto route_tables = std::make_shared<proxy_core::RouteTableCache>();
  xds_options.validator = std::make_shared<proxy_core::ProxyResourceValidator>(route_tables);
  xds_options.log = [](std::string_view line) { Log(LogLevel::kInfo, "xds: " + std::string(line)); };
  xds_client::XdsClient xds(xds_options, [&](xds_client::XdsStatePtr config) {
    std::vector<std::string> errors;
    proxy_core::ConfigSnapshotPtr previous;
    {
      std::lock_guard lock(state.mutex);
      previous = state.snapshot;
    }
    auto snapshot = proxy_core::BuildSnapshot(config, previous.get(), &errors, route_tables.get());
    for (const auto& error : errors) Log(LogLevel::kError, "config: " + error);
    for (auto& worker : workers) worker->SetConfig(snapshot);
    {
      std::lock_guard lock(state.mutex);
      state.snapshot = snapshot;
      state.snapshot_errors = errors;
    }
    bool answered = true;
    for (const auto& version : config->versions) answered = answered && !version.empty();
    if (answered && config->complete() && !state.ready.exchange(true)) {
      Log(LogLevel::kInfo, "first complete configuration received: ready");
    }
    // Building a configuration frees more than it keeps (protobuf parsing, the old snapshot):
    // give it back to the OS rather than keep the peak.
    malloc_trim(0);
    Log(LogLevel::kInfo, "configuration " + std::to_string(config->generation) + ": " +
                             std::to_string(snapshot->routes.size()) + " route configurations, " +
                             std::to_string(snapshot->clusters.size()) + " clusters");
  });

  std::atomic<bool> quit_now{false};
  auto drain_listeners = [&] {
    for (auto& worker : workers) worker->StopAccepting();
  };
  AdminContext context{state, registry, proxy_metrics, xds, {}, drain_listeners, [&] {
                         quit_now = true;
                         ::kill(::getpid(), SIGTERM);
                       }};
  for (auto& worker : workers) context.workers.push_back(worker.get());
  admin_http::HttpServer admin([&](const auto& r) { return HandleAdmin(context, r); }, /*allow_post=*/true);
  admin_http::HttpServer health([&](const auto& r) { return HandleHealth(context, r); });
  admin_http::HttpServer stats([&](const auto& r) { return HandleStats(context, r); });
  std::string error;
  if (!admin.Start("127.0.0.1", flags.admin_port, &error) ||
      !health.Start(flags.status_address, flags.health_port, &error) ||
      !stats.Start(flags.status_address, flags.stats_port, &error)) {
    Log(LogLevel::kError, error);
    return 1;
  }
  Log(LogLevel::kInfo, "admin listening on 127.0.0.1:" + std::to_string(admin.port()));
  Log(LogLevel::kInfo, "health listening on " + flags.status_address + ":" + std::to_string(health.port()));
  Log(LogLevel::kInfo, "stats listening on " + flags.status_address + ":" + std::to_string(stats.port()));
  xds.Start();

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  state.draining = true;
  drain_listeners();
  if (!quit_now) {
    Log(LogLevel::kInfo, "draining for up to " + std::to_string(flags.drain_duration.count()) + " ms");
    const auto deadline = std::chrono::steady_clock::now() + flags.drain_duration;
    auto active = [&] {
      std::uint64_t n = 0;
      for (auto& worker : workers) n += worker->counters().active_connections.load();
      return n;
    };
    // Idle keep-alive clients would hold the drain for its whole duration; Envoy closes them as
    // their requests finish, and so does a worker whose listeners are closed (see Worker).
    while (active() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  xds.Stop();
  for (auto& worker : workers) worker->Stop();
  admin.Stop();
  health.Stop();
  stats.Stop();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace cmesh::proxy

int main(int argc, char** argv) {
  std::string error;
  auto flags = cmesh::proxy::ParseFlags(std::vector<std::string>(argv + 1, argv + argc), &error);
  if (!flags) {
    std::fprintf(stderr, "cmesh-proxy: %s\n%s", error.c_str(), cmesh::proxy::Usage().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(cmesh::proxy::Usage().c_str(), stdout);
    return 0;
  }
  return cmesh::proxy::Run(*flags);
}
