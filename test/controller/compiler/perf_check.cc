// Not a test: times the compiler on the synthetic mesh (1,000 services with 3 subsets and
// 10 pods each, 1,000 VirtualServices, 1,000 DestinationRules) so the design can be checked
// against its goals (full compile ≤ 100 ms, one VirtualService change ≤ 5 ms). The benchmark in
// bench/ is the reference; this is the compiler engineer's quick check.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/incremental_compiler.h"

using namespace cmesh;

namespace {

model::ConfigSet SyntheticMesh(int services) {
  model::ConfigSet c;
  for (int i = 0; i < services; ++i) {
    const std::string name = "svc-" + std::to_string(i);
    const std::string ns = "ns-" + std::to_string(i % 10);
    model::Service s;
    s.meta.name = name;
    s.meta.ns = ns;
    s.cluster_ip = "10.96." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    model::ServicePort port;
    port.name = "http";
    port.port = 9080;
    port.target_port.number = 9080;
    s.ports.push_back(port);
    s.selector = {{"app", name}};
    c.services.push_back(s);
    for (int p = 0; p < 10; ++p) {
      model::Pod pod;
      pod.meta.name = name + "-" + std::to_string(p);
      pod.meta.ns = ns;
      pod.meta.labels = {{"app", name}, {"version", "v" + std::to_string(p % 3 + 1)}};
      pod.phase = "Running";
      pod.ready = true;
      pod.pod_ip = "10." + std::to_string(1 + i / 250) + "." + std::to_string(i % 250) + "." + std::to_string(p + 1);
      pod.ports.push_back({"http", 9080, "TCP"});
      c.pods.push_back(pod);
    }
    model::DestinationRule dr;
    dr.meta.name = name;
    dr.meta.ns = ns;
    dr.host = name;
    for (int v = 1; v <= 3; ++v) dr.subsets.push_back({"v" + std::to_string(v), {{"version", "v" + std::to_string(v)}}, {}});
    c.destination_rules.push_back(dr);
    model::VirtualService vs;
    vs.meta.name = name;
    vs.meta.ns = ns;
    vs.hosts = {name};
    model::HTTPRoute jason;
    model::HTTPMatchRequest m;
    m.headers["end-user"] = model::StringMatch{model::StringMatch::Kind::kExact, "jason"};
    jason.match.push_back(m);
    jason.route.push_back({{name, "v2", {}}, {}, {}});
    model::HTTPRoute rest;
    rest.route.push_back({{name, "v1", {}}, 80, {}});
    rest.route.push_back({{name, "v3", {}}, 20, {}});
    vs.http = {jason, rest};
    c.virtual_services.push_back(vs);
  }
  return c;
}

double Ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  // `cmesh_compiler_perf_check N`: N VirtualService changes (for profiling), default 5.
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  auto config = std::make_shared<model::ConfigSet>(SyntheticMesh(1000));
  std::string error;
  auto node = *compiler::ParseNodeId("sidecar~10.1.0.1~svc-0-0.ns-0~ns-0.svc.cluster.local", &error);
  compiler::MeshOptions options;

  auto t0 = std::chrono::steady_clock::now();
  auto index = compiler::BuildIndex(config, options);
  auto t1 = std::chrono::steady_clock::now();
  auto out = compiler::Compile(*index, node, options);
  auto t2 = std::chrono::steady_clock::now();
  std::printf("index %.1f ms, full compile %.1f ms: %zu listeners, %zu routes, %zu clusters, %zu endpoints\n",
              Ms(t1 - t0), Ms(t2 - t1), out.listeners.size(), out.routes.size(), out.clusters.size(),
              out.endpoints.size());

  compiler::IncrementalCompiler ic(options);
  ic.Update(config);
  compiler::XdsResources inc;
  auto t3 = std::chrono::steady_clock::now();
  ic.CompileInto(node, &inc);
  auto t4 = std::chrono::steady_clock::now();
  std::printf("incremental first compile %.1f ms\n", Ms(t4 - t3));
  for (int round = 0; round < rounds; ++round) {
    model::VirtualService vs = config->virtual_services[static_cast<size_t>(round * 7 % 1000)];
    vs.http[1].route[0].weight = 70 - round;
    vs.http[1].route[1].weight = 30 + round;
    auto a = std::chrono::steady_clock::now();
    ic.UpsertVirtualService(vs);
    auto b = std::chrono::steady_clock::now();
    ic.CompileInto(node, &inc);
    auto c = std::chrono::steady_clock::now();
    if (rounds > 5 && round % 50 != 0) continue;
    std::printf("one VirtualService change: upsert %.2f ms + compile %.2f ms = %.2f ms\n", Ms(b - a), Ms(c - b),
                Ms(c - a));
  }
  return 0;
}
