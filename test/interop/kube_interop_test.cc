// A real proxyless gRPC client (grpc-js-xds, client.js) against cmesh-pilot --kubeconfig on the
// real kube-apiserver of the `kube` fixture: a VirtualService applied with kubectl reaches the
// connected client, which then routes by it. The time from the apply to the client's ACK of the
// new route configuration is measured and recorded (a figure, never a pass/fail threshold).
//
// The greeter pods are stored with loopback pod IPs (the API accepts them for Pods, unlike
// EndpointSlices), so the pilot derives the endpoints from the pods, as for a Service whose
// EndpointSlices are not there yet, and the client reaches the backends of backend.js.
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube_env.h"
#include "node_process.h"
#include "pilot_process.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kNodeModules[] = CMESH_INTEROP_NODE_MODULES;

std::string InteropDir() { return SourceDir() + "/test/interop"; }
NodeProcess::Env NodeEnv() { return {{"NODE_PATH", kNodeModules}}; }

std::string Apply(const std::string& yaml) {
  CommandResult result = RunKubectl({"apply", "-f", "-"}, yaml);
  return result.exit_code == 0 ? "" : result.err + result.out;
}

std::string VirtualService(const std::string& ns, const std::string& subset) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: greeter\n  namespace: " + ns +
         "\nspec:\n  hosts:\n  - greeter\n  http:\n  - route:\n    - destination:\n        host: greeter\n"
         "        subset: " + subset + "\n";
}

// The versions that answered `count` calls through the client ({"v1": n, ...}; errors under "error").
std::map<std::string, int> Call(NodeProcess& client, const std::string& target, int count) {
  std::map<std::string, int> out;
  json command = {{"op", "call"}, {"target", target}, {"count", count}, {"concurrency", 1}, {"deadline_ms", 5000}};
  if (!client.SendLine(command.dump())) return {{"error: client gone", 1}};
  auto line = client.ReadLine(std::chrono::milliseconds(5000) * (count + 2));
  if (!line) return {{"error: no answer", 1}};
  auto answer = json::parse(*line, nullptr, false);
  if (!answer.is_object()) return {{"error: " + *line, 1}};
  for (const auto& [version, n] : answer["versions"].items()) out[version] = n.get<int>();
  for (const auto& [error, n] : answer["errors"].items()) out["error: " + error] = n.get<int>();
  return out;
}

TEST(KubeInteropTest, AVirtualServiceAppliedWithKubectlReachesAConnectedGrpcClient) {
  CMESH_REQUIRE_KUBE();
  ASSERT_EQ(InstallCrds(), "");
  KubeNamespace ns;
  ASSERT_EQ(ns.error(), "");

  NodeProcess backends(InteropDir() + "/backend.js", {"v1=127.0.0.11", "v2=127.0.0.12"}, NodeEnv());
  ASSERT_TRUE(backends.started()) << backends.error();
  auto ready = backends.ReadLine(20s);
  ASSERT_TRUE(ready) << backends.Log();
  const int backend_port = json::parse(*ready)["port"].get<int>();

  // The Service, one Running pod per version (the status a kubelet would report), the subsets,
  // and a VirtualService sending everything to v1.
  ASSERT_EQ(Apply("apiVersion: v1\nkind: Service\nmetadata:\n  name: greeter\n  namespace: " + ns.name() +
                  "\nspec:\n  selector:\n    app: greeter\n  ports:\n  - name: grpc\n    port: 7070\n    targetPort: " +
                  std::to_string(backend_port) + "\n"),
            "");
  for (auto [version, ip] : {std::pair{"v1", "127.0.0.11"}, std::pair{"v2", "127.0.0.12"}}) {
    const std::string name = std::string("greeter-") + version;
    ASSERT_EQ(Apply("apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns.name() +
                    "\n  labels:\n    app: greeter\n    version: " + version +
                    "\nspec:\n  nodeName: node-1\n  containers:\n  - name: app\n    image: example/greeter\n"),
              "");
    json status = {{"status",
                    {{"phase", "Running"},
                     {"podIP", ip},
                     {"podIPs", json::array({{{"ip", ip}}})},
                     {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
    CommandResult patched = RunKubectl(
        {"-n", ns.name(), "patch", "pod", name, "--subresource=status", "--type=merge", "-p", status.dump()});
    ASSERT_EQ(patched.exit_code, 0) << patched.err;
  }
  ASSERT_EQ(Apply("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: greeter\n  namespace: " +
                  ns.name() + "\nspec:\n  host: greeter\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n"
                  "  - name: v2\n    labels:\n      version: v2\n"),
            "");
  ASSERT_EQ(Apply(VirtualService(ns.name(), "v1")), "");

  PilotProcess pilot({"--kubeconfig", KubeconfigPath(), "--xds-port", "0", "--debug-port", "0", "--monitoring-port",
                      "0", "--webhook-port", "0", "--listen-address", "127.0.0.1", "--leader-election-namespace",
                      ns.name()});
  auto xds_port = pilot.WaitForPort("xds", 20s);
  auto debug_port = pilot.WaitForPort("debug", 20s);
  ASSERT_TRUE(xds_port && debug_port) << pilot.Log();
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (HttpGet(*debug_port, "/ready").status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(HttpGet(*debug_port, "/ready").status, 200) << pilot.Log();

  const std::string node = "sidecar~127.0.0.1~client-1." + ns.name() + "~" + ns.name() + ".svc.cluster.local";
  json bootstrap = {{"xds_servers",
                     {{{"server_uri", "127.0.0.1:" + std::to_string(*xds_port)},
                       {"channel_creds", {{{"type", "insecure"}}}},
                       {"server_features", {"xds_v3"}}}}},
                    {"node", {{"id", node}, {"locality", json::object()}, {"metadata", {{"GENERATOR", "grpc"}}}}}};
  auto env = NodeEnv();
  env.emplace_back("GRPC_XDS_BOOTSTRAP_CONFIG", bootstrap.dump());
  NodeProcess client(InteropDir() + "/client.js", {}, env);
  ASSERT_TRUE(client.started()) << client.error();
  const std::string target = "xds:///greeter." + ns.name() + ".svc.cluster.local:7070";
  EXPECT_EQ(Call(client, target, 20), (std::map<std::string, int>{{"v1", 20}})) << pilot.Log();

  // The client's RDS state in /debug/syncz: {sent, acked}.
  auto rds = [&]() -> std::pair<std::string, std::string> {
    auto list = json::parse(HttpGet(*debug_port, "/debug/syncz").body, nullptr, false);
    if (!list.is_array()) return {};
    for (const auto& entry : list) {
      if (entry.value("node_id", "") == node) {
        return {entry["RDS"].value("sent", ""), entry["RDS"].value("acked", "")};
      }
    }
    return {};
  };
  const std::string before = rds().second;
  ASSERT_FALSE(before.empty());

  const auto applied = std::chrono::steady_clock::now();
  ASSERT_EQ(Apply(VirtualService(ns.name(), "v2")), "");
  std::pair<std::string, std::string> state;
  deadline = std::chrono::steady_clock::now() + 30s;
  do {
    state = rds();
    if (state.second != before && state.second == state.first) break;
    std::this_thread::sleep_for(2ms);
  } while (std::chrono::steady_clock::now() < deadline);
  const auto acked = std::chrono::steady_clock::now();
  ASSERT_NE(state.second, before) << pilot.Log();
  ASSERT_EQ(state.second, state.first);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(acked - applied).count();
  // The figure (kubectl's own start-up included): in the test's XML output and its log.
  RecordProperty("apply_to_ack_ms", static_cast<int>(ms));
  std::printf("kubectl apply -> grpc-js-xds ACK of the new RDS version: %lld ms\n", static_cast<long long>(ms));
  // The client applies what it ACKed to its channel asynchronously, so a call made right after
  // the ACK may still take the old route: the switch is waited for, and no call may fail meanwhile.
  std::map<std::string, int> calls;
  deadline = std::chrono::steady_clock::now() + 30s;
  do {
    calls = Call(client, target, 20);
    for (const auto& [what, n] : calls) EXPECT_TRUE(what == "v1" || what == "v2") << what << " x" << n;
    if (calls == std::map<std::string, int>{{"v2", 20}}) break;
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(calls, (std::map<std::string, int>{{"v2", 20}}));
}

}  // namespace
}  // namespace cmesh::testing
