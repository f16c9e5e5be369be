// Compiler benchmark (Google Benchmark, not a pass/fail test) on the synthetic mesh of the
// foundation issue: 1,000 services with 3 subsets and 10 pods each, 1,000 VirtualServices and
// 1,000 DestinationRules. It reports the full compile for one proxy, the compile for one proxy in
// every namespace, one VirtualService change through the incremental compiler, and peak RSS, and
// prints each figure as a ratio of its goal (full compile ≤ 100 ms, one VS change ≤ 5 ms).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/incremental_compiler.h"
#include "synthetic_mesh.h"

namespace {

using cmesh::bench::MakeSyntheticMesh;
using cmesh::bench::MeshShape;
using cmesh::bench::SyntheticProxyId;
namespace compiler = cmesh::compiler;
namespace model = cmesh::model;

// Mean wall time per iteration of each benchmark, in milliseconds, for the closing summary.
std::map<std::string, double>& Means() {
  static std::map<std::string, double> means;
  return means;
}

std::shared_ptr<const model::ConfigSet> Mesh() {
  static auto mesh = std::make_shared<const model::ConfigSet>(MakeSyntheticMesh(MeshShape{}));
  return mesh;
}

compiler::ProxyNode Proxy(size_t ns_index) {
  std::string error;
  auto proxy = compiler::ParseNodeId(SyntheticProxyId(ns_index), &error);
  if (!proxy) {
    std::fprintf(stderr, "bad synthetic node id: %s\n", error.c_str());
    std::abort();
  }
  proxy->labels = {{"app", "client"}};
  return *proxy;
}

template <typename Fn>
void Timed(benchmark::State& state, const std::string& key, Fn&& body) {
  double total_ms = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    body();
    total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  Means()[key] = total_ms / static_cast<double>(state.iterations());
}

size_t CountResources(const compiler::XdsResources& r) {
  return r.listeners.size() + r.routes.size() + r.clusters.size() + r.endpoints.size();
}

// Index building alone: the per-config work shared by every proxy.
void BM_BuildIndex(benchmark::State& state) {
  compiler::MeshOptions options;
  auto mesh = Mesh();
  Timed(state, "index", [&] { benchmark::DoNotOptimize(compiler::BuildIndex(mesh, options)); });
}
BENCHMARK(BM_BuildIndex)->Unit(benchmark::kMillisecond);

// Everything for one proxy from a cold start: index plus compile.
void BM_FullCompileOneProxy(benchmark::State& state) {
  compiler::MeshOptions options;
  auto mesh = Mesh();
  auto proxy = Proxy(0);
  size_t resources = 0;
  Timed(state, "full", [&] {
    auto index = compiler::BuildIndex(mesh, options);
    compiler::XdsResources out = compiler::Compile(*index, proxy, options);
    resources = CountResources(out);
    benchmark::DoNotOptimize(out);
  });
  state.counters["resources"] = static_cast<double>(resources);
}
BENCHMARK(BM_FullCompileOneProxy)->Unit(benchmark::kMillisecond);

// One proxy in each of the mesh's namespaces (the output differs per namespace: domains, visibility).
void BM_CompileAllNamespaces(benchmark::State& state) {
  compiler::MeshOptions options;
  auto mesh = Mesh();
  const size_t namespaces = MeshShape{}.namespaces;
  Timed(state, "all_namespaces", [&] {
    auto index = compiler::BuildIndex(mesh, options);
    for (size_t n = 0; n < namespaces; ++n) {
      benchmark::DoNotOptimize(compiler::Compile(*index, Proxy(n), options));
    }
  });
  state.counters["proxies"] = static_cast<double>(namespaces);
}
BENCHMARK(BM_CompileAllNamespaces)->Unit(benchmark::kMillisecond);

// One VirtualService changes (its weights flip) and the proxy's resources are brought up to date.
void BM_IncrementalOneVirtualServiceChange(benchmark::State& state) {
  compiler::IncrementalCompiler incremental;
  incremental.Update(Mesh());
  auto proxy = Proxy(0);
  compiler::XdsResources out;
  incremental.CompileInto(proxy, &out);
  model::VirtualService vs = Mesh()->virtual_services.front();
  int flip = 0;
  Timed(state, "incremental", [&] {
    ++flip;
    vs.http.back().route[0].weight = 80 - flip % 2 * 10;
    vs.http.back().route[1].weight = 20 + flip % 2 * 10;
    vs.origin.content_hash = 0x5eed0000u + static_cast<uint64_t>(flip);
    incremental.UpsertVirtualService(vs);
    incremental.CompileInto(proxy, &out);
  });
}
BENCHMARK(BM_IncrementalOneVirtualServiceChange)->Unit(benchmark::kMillisecond);

void PrintSummary() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  auto& m = Means();
  auto line = [&](const char* what, const std::string& key, double goal_ms) {
    if (!m.count(key)) return;
    if (goal_ms > 0) {
      std::printf("%-44s %9.2f ms   goal %6.1f ms   ratio %.2f (below 1 meets the goal)\n", what, m[key], goal_ms,
                  m[key] / goal_ms);
    } else {
      std::printf("%-44s %9.2f ms\n", what, m[key]);
    }
  };
  std::printf("\ncmesh compiler, synthetic mesh: 1000 services x 3 subsets x 10 pods, 1000 VS, 1000 DR\n");
  line("index build (shared by all proxies)", "index", 0);
  line("full compile, one proxy (index included)", "full", 100);
  line("one proxy in each of 10 namespaces", "all_namespaces", 0);
  line("one VirtualService change (incremental)", "incremental", 5);
  std::printf("%-44s %9.1f MB\n", "peak RSS of this process", peak_mb);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  PrintSummary();
  return 0;
}
