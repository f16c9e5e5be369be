// cmesh-pilot in file mode: a watched config directory compiled into per-group snapshots and
// served over ADS, with /ready and /debug/* on the debug port and /metrics on the monitoring port.
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/admin_http/http_server.h"
#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/grpc_proxyless.h"
#include "cmesh/compiler/proxy_node.h"
#include "cmesh/kube/kube_config.h"
#include "cmesh/kube/rest_kube_client.h"
#include "cmesh/kube_source/kube_source.h"
#include "cmesh/kube_status/status_writer.h"
#include "cmesh/leader/identity.h"
#include "cmesh/leader/leader_elector.h"
#include "cmesh/metrics/registry.h"
#include "cmesh/metrics/text_format.h"
#include "cmesh/pipeline/config_dir_source.h"
#include "cmesh/pipeline/push_pipeline.h"
#include "cmesh/pipeline/scheduler.h"
#include "cmesh/xds/resource_interner.h"
#include "cmesh/xds/session_registry.h"
#include "cmesh/xds/snapshot_cache.h"
#include "cmesh/xds/xds_grpc_server.h"
#include "flags.h"
#include "cmesh/logging/logger.h"
#include "pilot_metrics.h"
#include "resource_output.h"
#include "status_reporter.h"
#include "webhook_service.h"
#include "cmesh/webhook/injector_config_file.h"

namespace cmesh::pilot {
namespace {

using admin_http::HttpRequest;
using logging::ConfigureLogging;
using logging::Log;
using logging::LogLevel;
using admin_http::HttpResponse;
using admin_http::HttpServer;

std::string StringMetadata(const envoy::config::core::v3::Node& node, const std::string& key) {
  const auto& fields = node.metadata().fields();
  auto it = fields.find(key);
  if (it == fields.end() || it->second.kind_case() != google::protobuf::Value::kStringValue) return "";
  return it->second.string_value();
}

// The proxy a stream's node describes: its id, plus the LABELS and GENERATOR metadata Istio's
// bootstrap puts there. A proxyless gRPC client's bootstrap is often written by hand, so for
// GENERATOR=grpc an id that is not Istio's `TYPE~IP~POD.NS~DOMAIN` is accepted too: the client
// is then in the namespace of its NAMESPACE metadata (else "default"), with the first of
// INSTANCE_IPS as its address. Sidecars must use Istio's form, as with Istio.
std::optional<compiler::ProxyNode> ProxyFromNode(const envoy::config::core::v3::Node& node, std::string* error) {
  const std::string generator = StringMetadata(node, "GENERATOR");
  auto proxy = compiler::ParseNodeId(node.id(), error);
  if (!proxy && compiler::IsProxylessGrpc(generator) && !node.id().empty()) {
    proxy = compiler::ProxyNode{};
    proxy->id = node.id();
    proxy->type = "sidecar";
    proxy->ns = StringMetadata(node, "NAMESPACE");
    if (proxy->ns.empty()) proxy->ns = "default";
    proxy->domain = proxy->ns + ".svc.cluster.local";
    const std::string ips = StringMetadata(node, "INSTANCE_IPS");
    proxy->ip = ips.substr(0, ips.find(','));
    Log(LogLevel::kWarn, "proxyless gRPC client \"" + node.id() + "\" has no Istio node id (" + *error +
                             "); serving it as a client in namespace " + proxy->ns);
  }
  if (!proxy) return std::nullopt;
  const auto& fields = node.metadata().fields();
  if (auto labels = fields.find("LABELS");
      labels != fields.end() && labels->second.kind_case() == google::protobuf::Value::kStructValue) {
    for (const auto& [key, value] : labels->second.struct_value().fields()) {
      if (value.kind_case() == google::protobuf::Value::kStringValue) proxy->labels[key] = value.string_value();
    }
  }
  proxy->generator = generator;
  return proxy;
}

HttpResponse Json(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

HttpResponse Text(int status, std::string body) { return {status, "text/plain; charset=utf-8", std::move(body)}; }

nlohmann::json SyncEntry(const xds::SessionSummary& session, const std::optional<std::string>& group) {
  nlohmann::json entry;
  entry["node_id"] = session.status.node ? session.status.node->id() : "";
  entry["proxy_key"] = session.group_key;
  entry["group"] = group.value_or("");
  for (xds::ResourceType type : xds::kPushOrder) {
    const xds::TypeStatus& t = session.status.For(type);
    entry[std::string(xds::ShortName(type))] = {{"sent", t.sent_version}, {"acked", t.acked_version},
                                                {"nonce", t.sent_nonce},  {"responses", t.responses},
                                                {"acks", t.acks},         {"nacks", t.nacks}};
  }
  if (session.status.last_nack) {
    const auto& nack = *session.status.last_nack;
    entry["last_nack"] = {{"type", std::string(xds::ShortName(nack.type))},
                          {"version", nack.rejected_version},
                          {"nonce", nack.nonce},
                          {"message", nack.message}};
  } else {
    entry["last_nack"] = nullptr;
  }
  return entry;
}

int Run(const Flags& flags) {
  ConfigureLogging(flags.log_level, flags.log_format == "json");

  // Signals are taken by sigwait on this thread only; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  metrics::Registry registry;
  PilotMetrics pilot_metrics(registry);
  xds::SnapshotCache cache;
  xds::ResourceInterner interner;
  pipeline::ThreadScheduler scheduler;
  CountingPublisher publisher(cache, pilot_metrics);
  pipeline::PushPipelineOptions pipeline_options;
  if (flags.registry_only) pipeline_options.mesh.outbound_policy = compiler::MeshOptions::OutboundPolicy::kRegistryOnly;
  pipeline_options.on_push = [&pilot_metrics](const pipeline::PushStats& stats) {
    const double seconds = std::chrono::duration<double>(stats.duration).count();
    pilot_metrics.push_time.Get().Observe(seconds);
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f", seconds * 1000);
    Log(LogLevel::kInfo, "push: " + std::to_string(stats.compiled) + " groups compiled, " +
                             std::to_string(stats.published) + " published, " + std::to_string(stats.failed) +
                             " failed, " + std::to_string(stats.moved) + " proxies regrouped, " + ms + " ms");
  };
  pipeline::PushPipeline push_pipeline(publisher, interner, scheduler, pipeline_options);

  auto on_diagnostics = [&](const std::vector<model::Diagnostic>& diagnostics) {
    for (const auto& d : diagnostics) {
      Log(d.severity == model::Severity::kError ? LogLevel::kError : LogLevel::kWarn, d.ToString());
    }
    pilot_metrics.SetDiagnostics(diagnostics);
  };
  std::string error;
  pipeline::SourceMerger merger(push_pipeline, scheduler,
                                pipeline::DebounceOptions{flags.debounce_quiet, flags.debounce_max});
  std::unique_ptr<pipeline::ConfigDirSource> dir_source;
  if (!flags.config_dir.empty()) {
    dir_source = pipeline::ConfigDirSource::Start(flags.config_dir, merger, on_diagnostics, &error);
    if (!dir_source) {
      Log(LogLevel::kError, "cannot watch --config-dir " + flags.config_dir + ": " + error);
      return 1;
    }
    Log(LogLevel::kInfo, "config loaded from " + flags.config_dir);
  }

  // The Kubernetes source: informers feeding the same merger; the leader writes statuses.
  std::unique_ptr<kube::KubeClient> kube_client;
  std::unique_ptr<kube_status::StatusWriter> status_writer;
  std::unique_ptr<StatusReporter> status_reporter;
  std::unique_ptr<kube_source::KubeSource> kube_source;
  std::unique_ptr<leader::LeaderElector> elector;
  std::unique_ptr<WebhookService> webhooks;
  const bool kubernetes = !flags.kubeconfig.empty() || flags.in_cluster;
  const int webhook_port = flags.webhook_port < 0 ? (kubernetes ? 15017 : 0) : flags.webhook_port;
  if (kubernetes) {
    auto config = flags.in_cluster ? kube::LoadInClusterConfig() : kube::LoadKubeconfig(flags.kubeconfig);
    if (!config.ok()) {
      Log(LogLevel::kError, std::string(flags.in_cluster ? "in-cluster config" : "--kubeconfig " + flags.kubeconfig) +
                                ": " + config.error.message);
      return 1;
    }
    auto client = kube::RestKubeClient::Create(*config.value);
    if (!client.ok()) {
      Log(LogLevel::kError, "Kubernetes client: " + client.error.message);
      return 1;
    }
    kube_client = std::move(*client.value);
    kube_source::KubeSourceOptions kube_options;
    kube_options.informer.on_error = [](const std::string& message) { Log(LogLevel::kWarn, "kubernetes: " + message); };
    kube_options.on_diagnostics = on_diagnostics;
    if (flags.write_status) {
      status_writer = std::make_unique<kube_status::StatusWriter>(*kube_client);
      status_reporter = std::make_unique<StatusReporter>(*status_writer);
      kube_options.on_validated = [&status_reporter](const std::vector<kube_source::ValidatedObject>& objects) {
        status_reporter->Update(objects);
      };
    }
    kube_options.on_synced = [] { Log(LogLevel::kInfo, "kubernetes: caches synced, config pushed"); };
    kube_source = std::make_unique<kube_source::KubeSource>(*kube_client, merger, kube_options);
    if (status_reporter || webhook_port > 0) {
      leader::LeaderElectionConfig election;
      election.lease_namespace = flags.leader_namespace;
      election.lease_name = flags.leader_lease;
      election.identity = leader::MakeLeaderIdentity(flags.identity);
      leader::LeaderCallbacks callbacks;
      callbacks.on_started_leading = [&status_reporter, &webhooks, identity = election.identity] {
        Log(LogLevel::kInfo, "leader: " + identity + " leads; writing statuses");
        if (status_reporter) status_reporter->SetLeader(true);
        if (webhooks) webhooks->SetLeader(true);
      };
      callbacks.on_stopped_leading = [&status_reporter, &webhooks, identity = election.identity] {
        Log(LogLevel::kInfo, "leader: " + identity + " stopped leading");
        if (status_reporter) status_reporter->SetLeader(false);
        if (webhooks) webhooks->SetLeader(false);
      };
      elector = std::make_unique<leader::LeaderElector>(*kube_client, election, callbacks);
    }
    Log(LogLevel::kInfo, "kubernetes: watching " + config.value->server);
  }
  if (auto config = merger.config()) pilot_metrics.SetConfig(*config);

  // The admission webhooks, before the leader election starts (its callbacks reach them).
  if (webhook_port > 0) {
    WebhookServiceOptions options;
    options.address = flags.listen_address;
    options.port = webhook_port;
    options.cert_dir = flags.webhook_cert_dir;
    options.refresh_interval = flags.webhook_refresh_interval;
    const std::string ns = flags.leader_namespace;
    if (flags.webhook_dns_names.empty()) {
      options.certificate.service_dns_name = "cmesh-pilot." + ns + ".svc";
      options.certificate.extra_dns_names = {"cmesh-pilot." + ns + ".svc.cluster.local"};
    } else {
      options.certificate.service_dns_name = flags.webhook_dns_names.front();
      options.certificate.extra_dns_names.assign(flags.webhook_dns_names.begin() + 1, flags.webhook_dns_names.end());
    }
    options.certificate.ip_addresses = flags.webhook_ips;
    options.injector.pilot_address = "cmesh-pilot." + ns + ".svc:15010";
    options.injector.policy.excluded_namespaces = {ns, "kube-system", "kube-public", "kube-node-lease"};
    if (!flags.injection_config.empty()) {
      std::ifstream in(flags.injection_config);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        Log(LogLevel::kError, "--injection-config " + flags.injection_config + ": cannot read it");
        return 1;
      }
      auto config = webhook::ParseInjectorConfig(text.str(), flags.injection_config, options.injector, &error);
      if (!config) {
        Log(LogLevel::kError, "--injection-config " + error);
        return 1;
      }
      options.injector = std::move(*config);
    }
    options.mutating_configuration = flags.mutating_webhook_name;
    options.validating_configuration = flags.validating_webhook_name;
    // Namespaces' labels from the merged config (the Kubernetes source watches them).
    auto namespaces = [&merger](const std::string& name) -> std::optional<webhook::Labels> {
      auto config = merger.config();
      if (!config) return std::nullopt;
      for (const auto& n : config->namespaces) {
        if (n.meta.name == name) return webhook::Labels(n.meta.labels.begin(), n.meta.labels.end());
      }
      return std::nullopt;
    };
    webhooks = WebhookService::Start(std::move(options), namespaces, kube_client.get(), &error);
    if (!webhooks) {
      Log(LogLevel::kError, "webhook: " + error);
      return 1;
    }
    if (!webhooks->template_error().empty()) Log(LogLevel::kError, "injection template: " + webhooks->template_error());
  }
  if (elector) elector->Start();

  xds::SessionRegistry sessions;
  MetricsCallbacks callbacks(pilot_metrics, push_pipeline);
  auto group_key = [&](const envoy::config::core::v3::Node& node) -> std::string {
    std::string why;
    auto proxy = ProxyFromNode(node, &why);
    if (!proxy) {
      // No group: the stream gets nothing, which is what an unidentifiable proxy should get.
      Log(LogLevel::kWarn, "proxy with bad node id \"" + node.id() + "\": " + why);
      return "invalid-node:" + node.id();
    }
    // A proxy that sends no LABELS gets its pod's, as Istio finds them (by name, else by IP).
    if (proxy->labels.empty() && kube_source) {
      if (auto labels = kube_source->PodLabels(proxy->ns, proxy->pod_name, proxy->ip)) proxy->labels = *labels;
    }
    std::string key = push_pipeline.RegisterProxy(*proxy);
    callbacks.RememberGroup(node.id(), key);
    return key;
  };
  xds::XdsGrpcServer xds_server(cache, sessions, group_key, &callbacks);
  xds::XdsGrpcServerOptions xds_options;
  xds_options.address = flags.listen_address;
  xds_options.port = flags.xds_port;
  xds_options.log = [](std::string_view line) { Log(LogLevel::kInfo, line); };
  if (!xds_server.Start(xds_options, &error)) {
    Log(LogLevel::kError, "xDS server: " + error);
    return 1;
  }
  Log(LogLevel::kInfo, "xds listening on " + flags.listen_address + ":" + std::to_string(xds_server.port()));

  std::atomic<bool> ready{false};
  HttpServer debug_server([&](const HttpRequest& request) -> HttpResponse {
    if (request.path == "/ready") {
      // With a Kubernetes source, ready once its caches synced and their config was pushed.
      if (ready && kube_source && !kube_source->synced()) return Text(503, "kubernetes caches not synced\n");
      return ready ? Text(200, "ready\n") : Text(503, "not ready\n");
    }
    if (request.path == "/debug/syncz") {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& session : sessions.List()) {
        list.push_back(SyncEntry(session, push_pipeline.GroupOf(session.group_key)));
      }
      return Json(200, list);
    }
    if (request.path == "/debug/config_dump") {
      auto id = request.query.find("proxyID");
      if (id == request.query.end()) return Text(400, "missing proxyID\n");
      std::string why;
      auto proxy = compiler::ParseNodeId(id->second, &why);
      if (!proxy) return Text(400, "bad proxyID: " + why + "\n");
      // The pod's labels, as Istio takes them from the pod of a proxy that may not be connected.
      if (auto config = merger.config()) {
        for (const auto& pod : config->pods) {
          if (pod.meta.name == proxy->pod_name && pod.meta.ns == proxy->ns) proxy->labels = pod.meta.labels;
        }
      }
      auto index = push_pipeline.index();
      if (!index) return Text(503, "no config yet\n");
      auto resources = compiler::Compile(*index, *proxy, pipeline_options.mesh);
      auto json = cli::ResourcesToJson(resources, &why);
      if (!json) return Text(500, "cannot render: " + why + "\n");
      return {200, "application/json", *json};
    }
    return Text(404, "not found\n");
  });
  HttpServer monitoring_server([&](const HttpRequest& request) -> HttpResponse {
    if (request.path != "/metrics") return Text(404, "not found\n");
    pilot_metrics.connected.Get().Set(static_cast<double>(sessions.size()));
    pilot_metrics.proxies.Get().Set(static_cast<double>(push_pipeline.proxies()));
    pilot_metrics.groups.Get().Set(static_cast<double>(push_pipeline.GroupKeys().size()));
    if (auto config = merger.config()) pilot_metrics.SetConfig(*config);
    if (kube_source) {
      for (const auto& kind : kube_source::WatchedKinds()) {
        if (const auto* informer = kube_source->informer(kind.resource.kind)) {
          pilot_metrics.SetInformerStats(kind.resource.kind, informer->stats());
        }
      }
      pilot_metrics.k8s_synced.Get().Set(kube_source->synced() ? 1 : 0);
    }
    if (elector) pilot_metrics.leader.Get().Set(elector->IsLeader() ? 1 : 0);
    if (status_reporter) {
      auto stats = status_reporter->stats();
      pilot_metrics.SetStatusWrites(stats.written, stats.unchanged, stats.failed);
    }
    return {200, std::string(metrics::kTextContentType), metrics::RenderText(registry)};
  });
  if (!debug_server.Start(flags.listen_address, flags.debug_port, &error)) {
    Log(LogLevel::kError, "debug server: " + error);
    return 1;
  }
  Log(LogLevel::kInfo, "debug listening on " + flags.listen_address + ":" + std::to_string(debug_server.port()));
  if (!monitoring_server.Start(flags.listen_address, flags.monitoring_port, &error)) {
    Log(LogLevel::kError, "monitoring server: " + error);
    return 1;
  }
  Log(LogLevel::kInfo,
      "monitoring listening on " + flags.listen_address + ":" + std::to_string(monitoring_server.port()));
  ready = true;

  // glibc keeps what thousands of streams and their first responses freed in its per-thread
  // arenas; without a trim, a connection burst leaves the RSS at its peak for good.
  std::mutex trim_mutex;
  std::condition_variable trim_stop;
  bool stopping = false;
  std::thread trimmer;
  if (flags.memory_release_interval.count() > 0) {
    trimmer = std::thread([&] {
      std::unique_lock lock(trim_mutex);
      while (!trim_stop.wait_for(lock, flags.memory_release_interval, [&] { return stopping; })) malloc_trim(0);
    });
  }

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  Log(LogLevel::kInfo, std::string("received ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
                           ", shutting down");
  ready = false;
  // The HTTP ports first (their handlers read the source), then the streams (clients reconnect
  // elsewhere at once), then the config source.
  {
    std::lock_guard lock(trim_mutex);
    stopping = true;
  }
  trim_stop.notify_all();
  if (trimmer.joinable()) trimmer.join();
  debug_server.Stop();
  monitoring_server.Stop();
  xds_server.Shutdown();
  if (elector) elector->Stop();  // releases the Lease: another replica takes over at once
  webhooks.reset();
  kube_source.reset();
  status_reporter.reset();
  dir_source.reset();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace cmesh::pilot

int main(int argc, char** argv) {
  std::string error;
  auto flags = cmesh::pilot::ParseFlags(std::vector<std::string>(argv + 1, argv + argc), &error);
  if (!flags) {
    std::fprintf(stderr, "cmesh-pilot: %s\n%s", error.c_str(), cmesh::pilot::Usage().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(cmesh::pilot::Usage().c_str(), stdout);
    return 0;
  }
  return cmesh::pilot::Run(*flags);
}
