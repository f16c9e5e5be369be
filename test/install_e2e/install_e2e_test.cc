// Issue 7 §5: the install end to end on a real kube-apiserver, with the injected pods run for real.
//
// A private instance (scripts/kube-up in a CMESH_KUBE_DIR of its own: the cluster-wide webhooks must
// not reach the shared fixture instance) gets the two helm installs of the README, with the
// webhooks pointed (webhook.url) at cmesh-pilot run here as a local process with the chart's
// ServiceAccount identity (pilot.kubeconfig) and the chart's injection ConfigMap. The pilot listens
// on the host end of a bridge (PodNetwork), where both the apiserver (webhooks) and the pods'
// sidecars (xDS on 15010) reach it.
//
// Pods created with kubectl in a labelled namespace come back injected; PodRuntime then runs each
// as the kubelet would (init container, sidecar as UID 1337 with its env and $(VAR)s, the app), and
// the test publishes what the kubelet and the EndpointSlice controller would: the pod's status
// (Running, Ready, podIP) and an EndpointSlice per Service. VirtualServices and DestinationRules
// applied with kubectl then steer real traffic from productpage's namespace through both
// sidecars; an invalid one is denied by the validating webhook; `helm uninstall` leaves the CRDs.
//
// The sidecars' --xds-address is the injected `cmesh-pilot.istio-system.svc:15010`, unchanged:
// each pod's /etc/hosts (PodRuntime bind-mounts /etc/netns/NAME/hosts, as `ip netns exec` does)
// maps that name to the bridge address, as cluster DNS would map it to the Service, and the pilot
// listens on 15010 there. So what is tested is the address the chart really injects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kube_env.h"
#include "mesh_fixture.h"
#include "pilot_process.h"
#include "pod_runtime.h"
#include "eventually.h"
#include "loopback_client.h"
#include "private_kube_cluster.h"
#include "test_paths.h"

namespace cmesh::install_e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::CommandResult;
using testing::SourceDir;
using testing::Eventually;
using json = nlohmann::json;

constexpr char kNamespace[] = "bookinfo";

struct PodDef {
  std::string name, app, version;
};

// A bookinfo-like pod as a user writes it: the app is cmesh-demo-backend, which answers with
// `x-cmesh-backend: APP-VERSION` (the command names the image's binary; PodRuntime runs the build's).
std::string PodYaml(const PodDef& pod) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + pod.name + "\n  namespace: " + kNamespace +
         "\n  labels: {app: " + pod.app + ", version: " + pod.version + "}\nspec:\n  containers:\n  - name: " +
         pod.app + "\n    image: example/" + pod.app + ":1\n    command: [cmesh-demo-backend]\n" +
         "    args: [--listen, \"0.0.0.0:9080\", --service, " + pod.app + ", --version, " + pod.version +
         "]\n    ports: [{name: http, containerPort: 9080}]\n";
}

std::string ServiceYaml(const std::string& name) {
  return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: " + kNamespace +
         "}\nspec:\n  selector: {app: " + name + "}\n  ports: [{name: http, port: 9080, targetPort: 9080}]\n";
}

// What the EndpointSlice controller would publish for the Service: its ready pods.
std::string EndpointSliceYaml(const std::string& service,
                              const std::vector<std::pair<std::string, std::string>>& pods) {
  std::string yaml = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + service +
                     "-e2e\n  namespace: " + kNamespace + "\n  labels:\n    kubernetes.io/service-name: " + service +
                     "\n    endpointslice.kubernetes.io/managed-by: cmesh-install-e2e\naddressType: IPv4\n"
                     "ports: [{name: http, port: 9080, protocol: TCP}]\nendpoints:\n";
  for (const auto& [name, ip] : pods) {
    yaml += "- addresses: [\"" + ip + "\"]\n  conditions: {ready: true}\n  targetRef: {kind: Pod, name: " + name +
            ", namespace: " + kNamespace + "}\n";
  }
  return yaml;
}

const char kDestinationRule[] = R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
)";

std::string VirtualService(const std::string& http) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\n"
         "spec:\n  hosts: [reviews]\n  http:\n" +
         http;
}

class EndToEnd {
 public:
  // The body; ASSERTs return from here, and the caller then checks that nothing is left behind.
  void Run();

 private:
  // `count` requests to http://reviews:9080/ from productpage's namespace (one curl, one
  // connection, URL globbing), as the app would send them: how many each backend answered, and
  // "error" for anything but a 200 from a backend.
  std::map<std::string, int> Curl(int count, const std::vector<std::string>& headers = {}) const;
  std::string Logs() const { return runtime_ ? runtime_->Logs() + (pilot_ ? "---- pilot\n" + pilot_->Log() : "") : ""; }

  PodRuntime* runtime_ = nullptr;
  testing::PilotProcess* pilot_ = nullptr;
};

std::map<std::string, int> EndToEnd::Curl(int count, const std::vector<std::string>& headers) const {
  std::vector<std::string> argv = {"curl", "-s", "-o", "/dev/null", "--max-time", "60", "-w",
                                   "%{http_code} %header{x-cmesh-backend}\\n"};
  for (const auto& header : headers) argv.insert(argv.end(), {"-H", header});
  argv.push_back(count == 1 ? "http://reviews:9080/" : "http://reviews:9080/[1-" + std::to_string(count) + "]");
  CommandResult r = runtime_->Exec("productpage-v1", argv, std::chrono::seconds(90));
  std::map<std::string, int> counts;
  std::istringstream lines(r.out);
  std::string status, backend;
  int seen = 0;
  while (lines >> status) {
    std::getline(lines, backend);
    if (!backend.empty() && backend[0] == ' ') backend.erase(0, 1);
    ++counts[status == "200" && !backend.empty() ? backend : "error"];
    ++seen;
  }
  if (seen < count) counts["error"] += count - seen;
  return counts;
}

void EndToEnd::Run() {
  testing::PrivateKubeCluster cluster;
  ASSERT_EQ(cluster.error(), "");
  PodNetwork network;
  ASSERT_EQ(network.error(), "");
  const std::string bridge = network.bridge_ip();
  const int webhook_port = testing::FreeTcpPort();
  ASSERT_GT(webhook_port, 0);

  // ---- 1. The two helm installs of the README, the webhooks pointed at the local pilot ----
  const std::string charts = SourceDir() + "/charts";
  CommandResult r =
      cluster.Helm({"install", "cmesh-base", charts + "/base", "-n", "istio-system", "--create-namespace"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = cluster.Helm({"install", "cmesh", charts + "/cmesh", "-n", "istio-system", "--set",
                    "webhook.url=https://" + bridge + ":" + std::to_string(webhook_port)});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  // ---- 2 (first half). The namespace, labelled before the pilot's first list ----
  ASSERT_EQ(cluster.Kubectl({"create", "namespace", kNamespace}).exit_code, 0);
  ASSERT_EQ(cluster.Kubectl({"label", "namespace", kNamespace, "istio-injection=enabled"}).exit_code, 0);

  // The injection config as the Deployment would mount it.
  r = cluster.Kubectl({"get", "configmap", "cmesh-sidecar-injector", "-n", "istio-system", "-o",
                       "jsonpath={.data.config\\.yaml}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_THAT(r.out, HasSubstr("pilotAddress: \"cmesh-pilot.istio-system.svc:15010\""));
  std::ofstream(cluster.Path("injection.yaml")) << r.out;
  // The Deployment's flags where they matter (leader election in the release namespace), on the
  // bridge address; 15010 because that is the port the injected --xds-address names.
  testing::PilotProcess pilot({"--kubeconfig", cluster.Path("pilot.kubeconfig"), "--leader-election-namespace",
                               "istio-system", "--identity", "local-pilot", "--listen-address", bridge, "--xds-port",
                               "15010", "--monitoring-port", "0", "--debug-port", "0", "--webhook-port",
                               std::to_string(webhook_port), "--webhook-ips", bridge, "--injection-config",
                               cluster.Path("injection.yaml"), "--debounce-quiet", "50ms", "--debounce-max", "200ms"});
  pilot_ = &pilot;
  ASSERT_TRUE(pilot.started());
  const auto debug = pilot.WaitForPort("debug", std::chrono::seconds(30));
  ASSERT_TRUE(debug) << pilot.Log();
  ASSERT_TRUE(Eventually([&] { return testing::HttpGet(*debug, "/ready", bridge).status == 200; },
                         std::chrono::seconds(60)))
      << pilot.Log();
  for (const char* config : {"mutatingwebhookconfiguration/cmesh-sidecar-injector",
                             "validatingwebhookconfiguration/cmesh-validator"}) {
    ASSERT_TRUE(Eventually([&] {
      CommandResult got = cluster.Kubectl({"get", config, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"});
      return got.exit_code == 0 && !got.out.empty();
    })) << config << " has no caBundle:\n" << pilot.Log();
  }

  // ---- 2. Services and Pods through the API; the pods come back injected ----
  const std::vector<PodDef> pods = {{"productpage-v1", "productpage", "v1"},
                                    {"reviews-v1", "reviews", "v1"},
                                    {"reviews-v2", "reviews", "v2"}};
  std::map<std::string, std::string> cluster_ips;
  for (const std::string service : {"productpage", "reviews"}) {
    r = cluster.Kubectl({"create", "-f", "-"}, ServiceYaml(service));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = cluster.Kubectl({"get", "service", service, "-n", kNamespace, "-o", "jsonpath={.spec.clusterIP}"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_FALSE(r.out.empty());
    cluster_ips[service] = r.out;
  }
  std::vector<json> stored;
  for (const PodDef& pod : pods) {
    std::string last_error;
    // The apiserver picks up the patched caBundle a moment later: retry while the call fails.
    ASSERT_TRUE(Eventually([&] {
      CommandResult created = cluster.Kubectl({"create", "-f", "-"}, PodYaml(pod));
      last_error = created.err;
      return created.exit_code == 0;
    })) << last_error << "\n" << pilot.Log();
    json got = cluster.GetJson({"pod", pod.name, "-n", kNamespace});
    ASSERT_TRUE(got.is_object()) << pod.name;
    std::vector<std::string> containers, inits;
    for (const auto& c : got["spec"]["containers"]) containers.push_back(c.value("name", ""));
    for (const auto& c : got["spec"].value("initContainers", json::array())) inits.push_back(c.value("name", ""));
    EXPECT_THAT(containers, ::testing::ElementsAre(pod.app, "cmesh-proxy")) << pod.name;
    EXPECT_THAT(inits, ::testing::ElementsAre("cmesh-init")) << pod.name;
    EXPECT_TRUE(got["metadata"].value("annotations", json::object()).contains("sidecar.istio.io/status")) << pod.name;
    stored.push_back(std::move(got));
  }
  if (::testing::Test::HasFailure()) return;

  // ---- 3. Run each pod, publish its status and the Services' endpoints ----
  std::string hosts = "127.0.0.1 localhost\n" + bridge +
                      " cmesh-pilot.istio-system.svc cmesh-pilot.istio-system.svc.cluster.local\n";
  for (const auto& [service, ip] : cluster_ips) {
    const std::string qualified = service + "." + kNamespace;
    hosts += ip + " " + service + " " + qualified + " " + qualified + ".svc " + qualified + ".svc.cluster.local\n";
  }
  PodRuntime runtime(network);
  runtime_ = &runtime;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> endpoints;  // service → (pod, ip)
  std::map<std::string, std::string> ips;
  for (std::size_t i = 0; i < pods.size(); ++i) {
    std::string error;
    const std::string ip = runtime.Run(stored[i], hosts, &error);
    ASSERT_FALSE(ip.empty()) << error << "\n" << Logs();
    ips[pods[i].name] = ip;
    // Ready as the kubelet decides it: the injected readiness probe (the sidecar's 15021, which
    // answers once its first complete configuration arrived from the pilot over xDS).
    error = runtime.WaitReady(stored[i], ip, std::chrono::seconds(60));
    ASSERT_EQ(error, "") << "\n" << pilot.Log();
    const json status = {{"status",
                          {{"phase", "Running"},
                           {"podIP", ip},
                           {"podIPs", json::array({{{"ip", ip}}})},
                           {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
    r = cluster.Kubectl({"patch", "pod", pods[i].name, "-n", kNamespace, "--subresource=status", "--type=merge", "-p",
                         status.dump()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    endpoints[pods[i].app].push_back({pods[i].name, ip});
  }
  for (const auto& [service, members] : endpoints) {
    r = cluster.Kubectl({"create", "-f", "-"}, EndpointSliceYaml(service, members));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(cluster.Kubectl({"get", "pod", "reviews-v2", "-n", kNamespace, "-o", "jsonpath={.status.podIP}"}).out,
            ips["reviews-v2"]);
  // The sidecars run as the injected UID, and their node id carries the pod's address.
  for (const PodDef& pod : pods) {
    mesh_test::Child* proxy = runtime.Process(pod.name, "cmesh-proxy");
    ASSERT_NE(proxy, nullptr);
    EXPECT_TRUE(proxy->running()) << Logs();
    std::ifstream status("/proc/" + std::to_string(proxy->pid()) + "/status");
    std::string line, ids;
    while (std::getline(status, line)) {
      if (line.rfind("Uid:", 0) == 0 || line.rfind("Gid:", 0) == 0) ids += line + "\n";
    }
    // Real, effective, saved and filesystem IDs, from the securityContext's runAsUser/runAsGroup.
    EXPECT_THAT(ids, ::testing::MatchesRegex("Uid:\\s+1337\\s+1337\\s+1337\\s+1337\n"
                                             "Gid:\\s+1337\\s+1337\\s+1337\\s+1337\n"));
    std::ifstream cmdline("/proc/" + std::to_string(proxy->pid()) + "/cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    EXPECT_THAT(args, HasSubstr("sidecar~" + ips[pod.name] + "~" + pod.name + ".bookinfo~bookinfo.svc.cluster.local"));
    EXPECT_THAT(args, HasSubstr("cmesh-pilot.istio-system.svc:15010"));
  }
  if (::testing::Test::HasFailure()) return;

  // ---- 4. Routing of real traffic, productpage → reviews through both sidecars ----
  // Without routing config both versions answer (the 20 requests all going to one of two
  // endpoints would be a 2^-19 chance under any balancing that uses both).
  std::map<std::string, int> counts;
  ASSERT_TRUE(Eventually([&] {
    counts = Curl(20);
    return counts["reviews-v1"] > 0 && counts["reviews-v2"] > 0 && counts["error"] == 0;
  })) << ::testing::PrintToString(counts) << "\n" << Logs();

  // Version: every request to subset v2.
  r = cluster.Kubectl({"apply", "-f", "-"}, kDestinationRule);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cluster.Kubectl({"apply", "-f", "-"},
                      VirtualService("  - route:\n    - destination: {host: reviews, subset: v2}\n"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(Eventually([&] { return Curl(10) == std::map<std::string, int>{{"reviews-v2", 10}}; }))
      << ::testing::PrintToString(Curl(10)) << "\n" << Logs();
  EXPECT_EQ(Curl(20), (std::map<std::string, int>{{"reviews-v2", 20}}));

  // Header: end-user jason → v2, everyone else → v1.
  r = cluster.Kubectl({"apply", "-f", "-"},
                      VirtualService("  - match:\n    - headers:\n        end-user: {exact: jason}\n"
                                     "    route:\n    - destination: {host: reviews, subset: v2}\n"
                                     "  - route:\n    - destination: {host: reviews, subset: v1}\n"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(Eventually([&] { return Curl(10) == std::map<std::string, int>{{"reviews-v1", 10}}; }))
      << ::testing::PrintToString(Curl(10)) << "\n" << Logs();
  EXPECT_EQ(Curl(20), (std::map<std::string, int>{{"reviews-v1", 20}}));
  EXPECT_EQ(Curl(20, {"end-user: jason"}), (std::map<std::string, int>{{"reviews-v2", 20}}));
  EXPECT_EQ(Curl(20, {"end-user: mallory"}), (std::map<std::string, int>{{"reviews-v1", 20}}));

  // Weights 80/20. The change has arrived once jason's request reaches v1 (no header rule left;
  // 80 % per request). Of 400 requests v2 should get 80, binomial σ = √(400·0.2·0.8) = 8: accept
  // 4.5σ either side, [44, 116]; a test that ignored weights would see 0 or 400 (or ~200 with
  // plain balancing, also outside).
  // Both sidecars see every request: istio_requests_total of productpage's (reporter source) and
  // of the two reviews pods' (reporter destination) each grow by exactly the count sent.
  auto requests = [&](const std::string& pod, const std::string& reporter) {
    const std::string metrics = runtime.HostGet(ips[pod], 15090, "/stats/prometheus").value_or("");
    return mesh_test::MetricSum(metrics, "istio_requests_total", {{"reporter", reporter}});
  };
  auto destination_total = [&] {
    return requests("reviews-v1", "destination") + requests("reviews-v2", "destination");
  };
  r = cluster.Kubectl({"apply", "-f", "-"},
                      VirtualService("  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 80\n"
                                     "    - destination: {host: reviews, subset: v2}\n      weight: 20\n"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(Eventually([&] { return Curl(1, {"end-user: jason"}).count("reviews-v1") == 1; })) << Logs();
  // Counted once the probe's requests are (the same figures twice, a quarter second apart).
  double source_before = -1, destination_before = -1;
  testing::Eventually([&] {
    const double source = requests("productpage-v1", "source"), destination = destination_total();
    const bool settled = source == source_before && destination == destination_before;
    source_before = source;
    destination_before = destination;
    return settled;
  });
  counts = Curl(400);
  EXPECT_EQ(counts["error"], 0) << ::testing::PrintToString(counts);
  EXPECT_EQ(counts["reviews-v1"] + counts["reviews-v2"], 400) << ::testing::PrintToString(counts);
  EXPECT_GE(counts["reviews-v2"], 44) << ::testing::PrintToString(counts);
  EXPECT_LE(counts["reviews-v2"], 116) << ::testing::PrintToString(counts);
  EXPECT_TRUE(Eventually([&] { return requests("productpage-v1", "source") - source_before == 400; }))
      << "source: " << requests("productpage-v1", "source") - source_before;
  EXPECT_TRUE(Eventually([&] { return destination_total() - destination_before == 400; }))
      << "destination: " << destination_total() - destination_before;

  // ---- 5. An invalid VirtualService is refused at apply time ----
  const std::string invalid = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: bad\n"
                              "  namespace: bookinfo\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n"
                              "    - destination: {host: reviews, subset: v1}\n      weight: -5\n";
  r = cluster.Kubectl({"apply", "-f", "-"}, invalid);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("validation.cmesh.io"));
  EXPECT_THAT(r.err, HasSubstr("denied the request"));
  EXPECT_THAT(r.err, HasSubstr("route[0].weight"));
  EXPECT_FALSE(cluster.Exists("virtualservice", "bad", kNamespace));

  // ---- 6. helm uninstall: everything of the charts but the CRDs is gone ----
  r = cluster.Helm({"uninstall", "cmesh", "-n", "istio-system"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = cluster.Helm({"uninstall", "cmesh-base", "-n", "istio-system"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const auto& [kind, name, ns] : testing::CmeshChartObjects()) {
    if (kind == "customresourcedefinition") {
      EXPECT_TRUE(cluster.Exists(kind, name, ns)) << name << " must survive helm uninstall";
    } else {
      EXPECT_FALSE(cluster.Exists(kind, name, ns)) << kind << " " << name << " is left after helm uninstall";
    }
  }
  // The CRDs kept, the user's config is kept with them.
  EXPECT_TRUE(cluster.Exists("virtualservice", "reviews", kNamespace));
  EXPECT_TRUE(cluster.Exists("destinationrule", "reviews", kNamespace));
}

TEST(InstallE2eTest, HelmInstallInjectsPodsThatRunRouteAndValidateThenUninstallKeepsTheCrds) {
  if (auto why = mesh_test::Mesh::UnavailableReason()) GTEST_SKIP() << *why;  // also sweeps dead runs
  CMESH_REQUIRE_KUBE();  // the fixture's kubectl, helm and apiserver binaries
  EndToEnd().Run();
  // Every namespace, link, /etc/netns directory and work directory is gone, also after a failure.
  std::vector<std::string> left = mesh_test::LeftoversOf(getpid());
  if (std::getenv("CMESH_MESH_KEEP_LOGS") != nullptr) {  // the work directory is kept on purpose
    std::erase_if(left, [](const std::string& what) { return what.rfind("dir /tmp/", 0) == 0; });
  }
  EXPECT_THAT(left, IsEmpty());
}

}  // namespace
}  // namespace cmesh::install_e2e
