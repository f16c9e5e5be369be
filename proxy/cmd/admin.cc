#include "admin.h"

#include <malloc.h>

#include <map>
#include <sstream>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "cmesh/metrics/text_format.h"

namespace cmesh::proxy {
namespace {

using admin_http::HttpRequest;
using admin_http::HttpResponse;

HttpResponse Text(int status, std::string body) { return {status, "text/plain; charset=utf-8", std::move(body)}; }

nlohmann::json ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return nullptr;
  return nlohmann::json::parse(json, nullptr, false);
}

template <typename Map>
nlohmann::json Resources(const Map& map) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, resource] : map) list.push_back(ToJson(*resource));
  return list;
}

std::string RenderMetrics(AdminContext& context) {
  std::vector<const proxy_core::WorkerCounters*> counters;
  for (auto* worker : context.workers) counters.push_back(&worker->counters());
  context.metrics.Refresh(counters, context.xds.Status());
  return metrics::RenderText(context.registry);
}

}  // namespace

HttpResponse HandleAdmin(AdminContext& context, const HttpRequest& request) {
  const bool post = request.method == "POST";
  if (request.path == "/ready") {
    if (context.state.draining) return Text(503, "DRAINING\n");
    return context.state.ready ? Text(200, "LIVE\n") : Text(503, "PRE_INITIALIZING\n");
  }
  if (request.path == "/config_dump") {
    auto current = context.xds.Current();
    nlohmann::json dump;
    const auto status = context.xds.Status();
    for (xds_client::XdsType type : xds_client::kXdsTypes) {
      dump["version_info"][std::string(xds_client::ShortName(type))] = status.type(type).version;
    }
    dump["listeners"] = current ? Resources(current->listeners) : nlohmann::json::array();
    dump["routes"] = current ? Resources(current->routes) : nlohmann::json::array();
    dump["clusters"] = current ? Resources(current->clusters) : nlohmann::json::array();
    dump["endpoints"] = current ? Resources(current->endpoints) : nlohmann::json::array();
    dump["missing"] = current ? current->missing : std::vector<std::string>{};
    {
      std::lock_guard lock(context.state.mutex);
      dump["snapshot_errors"] = context.state.snapshot_errors;
    }
    std::string body = dump.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dump = nlohmann::json();
    // A dump of a large mesh decodes every resource and builds megabytes of JSON on the admin
    // thread; hand that memory back to the OS instead of keeping the RSS at the dump's peak.
    malloc_trim(0);
    return {200, "application/json", std::move(body)};
  }
  if (request.path == "/clusters") {
    proxy_core::ConfigSnapshotPtr snapshot;
    {
      std::lock_guard lock(context.state.mutex);
      snapshot = context.state.snapshot;
    }
    // Envoy's "cluster::host::stat::value" lines; the pool figures summed over the workers.
    std::map<std::pair<std::string, std::string>, proxy_core::EndpointStats> pools;
    for (auto* worker : context.workers) {
      for (const auto& e : worker->CollectEndpointStats(std::chrono::seconds(1))) {
        auto& sum = pools[{e.cluster, e.endpoint}];
        sum.connections += e.connections;
        sum.idle += e.idle;
        sum.active_requests += e.active_requests;
        sum.connect_attempts += e.connect_attempts;
        sum.connect_failures += e.connect_failures;
        sum.connect_timeouts += e.connect_timeouts;
        sum.reused += e.reused;
        sum.closed_by_upstream += e.closed_by_upstream;
      }
    }
    std::ostringstream out;
    if (snapshot) {
      for (const auto& [name, cluster] : snapshot->clusters) {
        out << name << "::excluded_hosts::" << cluster->excluded_hosts << "\n";
        for (const auto& host : cluster->hosts) {
          const std::string prefix = name + "::" + host.address.ToString() + "::";
          out << prefix << "weight::" << host.weight << "\n";
          out << prefix << "health_flags::healthy\n";
          const proxy_core::EndpointStats& e = pools[{name, host.address.ToString()}];
          out << prefix << "cx_active::" << e.connections << "\n";
          out << prefix << "cx_idle::" << e.idle << "\n";
          out << prefix << "rq_active::" << e.active_requests << "\n";
          out << prefix << "cx_total::" << e.connect_attempts << "\n";
          out << prefix << "cx_connect_fail::" << e.connect_failures << "\n";
          out << prefix << "cx_connect_timeout::" << e.connect_timeouts << "\n";
          out << prefix << "cx_reused::" << e.reused << "\n";
          out << prefix << "cx_closed_by_upstream::" << e.closed_by_upstream << "\n";
        }
      }
    }
    return Text(200, out.str());
  }
  if (request.path == "/stats") {
    // Envoy's "name: value" lines, from the same series as /stats/prometheus.
    std::istringstream text(RenderMetrics(context));
    std::ostringstream out;
    for (std::string line; std::getline(text, line);) {
      if (line.empty() || line[0] == '#') continue;
      const std::size_t space = line.rfind(' ');
      out << line.substr(0, space) << ": " << line.substr(space + 1) << "\n";
    }
    return Text(200, out.str());
  }
  if (request.path == "/drain_listeners") {
    if (!post) return Text(405, "use POST\n");
    context.drain_listeners();
    return Text(200, "OK\n");
  }
  if (request.path == "/quitquitquit") {
    if (!post) return Text(405, "use POST\n");
    context.quit();
    return Text(200, "OK\n");
  }
  if (request.path == "/") {
    return Text(200,
                "cmesh-proxy admin: /config_dump /clusters /stats /ready, POST /drain_listeners, POST /quitquitquit\n");
  }
  return Text(404, "not found\n");
}

HttpResponse HandleHealth(AdminContext& context, const HttpRequest& request) {
  if (request.path != "/healthz/ready") return Text(404, "not found\n");
  if (context.state.draining) return Text(503, "draining\n");
  return context.state.ready ? Text(200, "ready\n") : Text(503, "waiting for the first complete configuration\n");
}

HttpResponse HandleStats(AdminContext& context, const HttpRequest& request) {
  if (request.path != "/stats/prometheus") return Text(404, "not found\n");
  return {200, std::string(metrics::kTextContentType), RenderMetrics(context)};
}

}  // namespace cmesh::proxy
