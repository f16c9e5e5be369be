// cmesh-pilot against the real kube-apiserver of the `kube` fixture (scripts/kube-up): objects
// written with kubectl reach /debug/config_dump, changes and deletions follow, an invalid object
// is skipped with its status saying why, restarts of the apiserver and a compacted watch are
// survived, two replicas elect one status writer, and the pilot runs with exactly the RBAC the
// charts ship.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube_env.h"
#include "pilot_process.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Polls `done` until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

// The cluster a test talks to: the shared fixture instance, or a private one (its kubeconfig).
std::string& CurrentKubeconfig() {
  static std::string path;
  if (path.empty()) path = KubeconfigPath();
  return path;
}

std::string Apply(const std::string& yaml) {
  CommandResult result = RunKubectlAs(CurrentKubeconfig(), {"apply", "-f", "-"}, yaml);
  return result.exit_code == 0 ? "" : result.err + result.out;
}

std::string Kubectl(const std::vector<std::string>& args) {
  CommandResult result = RunKubectlAs(CurrentKubeconfig(), args);
  return result.exit_code == 0 ? "" : result.err + result.out;
}

std::string KubectlOut(const std::vector<std::string>& args) { return RunKubectlAs(CurrentKubeconfig(), args).out; }

// A Pod as the kubelet would report it: stored, then its status set Running with an IP.
std::string MakePod(const std::string& ns, const std::string& name, const std::string& app,
                    const std::string& version, const std::string& ip) {
  std::string pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
                    "\n  labels:\n    app: " + app + "\n    version: " + version +
                    "\nspec:\n  nodeName: node-1\n  containers:\n  - name: app\n    image: example/app\n";
  if (std::string error = Apply(pod); !error.empty()) return error;
  json status = {{"status",
                  {{"phase", "Running"},
                   {"podIP", ip},
                   {"podIPs", json::array({{{"ip", ip}}})},
                   {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  return Kubectl({"-n", ns, "patch", "pod", name, "--subresource=status", "--type=merge", "-p", status.dump()});
}

std::string Service(const std::string& ns, const std::string& name) {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  selector:\n    app: " + name + "\n  ports:\n  - name: http\n    port: 9080\n";
}

std::string EndpointSlice(const std::string& ns, const std::string& service,
                          const std::vector<std::pair<std::string, std::string>>& pods /* name, ip */) {
  std::string out = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + service +
                    "-abc\n  namespace: " + ns + "\n  labels:\n    kubernetes.io/service-name: " + service +
                    "\naddressType: IPv4\nports:\n- name: http\n  port: 9080\n  protocol: TCP\nendpoints:\n";
  for (const auto& [pod, ip] : pods) {
    out += "- addresses: [\"" + ip + "\"]\n  conditions:\n    ready: true\n  targetRef:\n    kind: Pod\n    name: " +
           pod + "\n    namespace: " + ns + "\n";
  }
  return out;
}

std::string ReviewsRules(const std::string& ns, const std::string& vs_api = "networking.istio.io/v1") {
  return "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata:\n  name: reviews\n"
         "  namespace: " + ns + "\nspec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n"
         "  - name: v2\n    labels:\n      version: v2\n---\n"
         "apiVersion: " + vs_api + "\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: " + ns +
         "\nspec:\n  hosts:\n  - reviews\n  http:\n  - match:\n    - headers:\n        end-user:\n          exact: jason\n"
         "    route:\n    - destination:\n        host: reviews\n        subset: v2\n  - route:\n    - destination:\n"
         "        host: reviews\n        subset: v1\n";
}

// Creates the reviews service with a v1 and a v2 pod, their EndpointSlice, and the rules.
std::string CreateBookinfoReviews(const std::string& ns) {
  for (auto [name, version, ip] : {std::tuple{"reviews-v1-a", "v1", "10.10.0.11"},
                                   std::tuple{"reviews-v2-a", "v2", "10.10.0.12"}}) {
    if (std::string error = MakePod(ns, name, "reviews", version, ip); !error.empty()) return error;
  }
  if (std::string error = Apply(Service(ns, "reviews")); !error.empty()) return error;
  if (std::string error =
          Apply(EndpointSlice(ns, "reviews", {{"reviews-v1-a", "10.10.0.11"}, {"reviews-v2-a", "10.10.0.12"}}));
      !error.empty()) {
    return error;
  }
  return Apply(ReviewsRules(ns));
}

// cmesh-pilot on free loopback ports with a kubeconfig; `lease_ns` holds its leader Lease.
struct Pilot {
  std::unique_ptr<PilotProcess> process;
  int debug_port = 0;
  int xds_port = 0;
  int monitoring_port = 0;

  Pilot(const std::string& kubeconfig, const std::string& lease_ns, const std::string& identity = "pilot",
        std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--kubeconfig", kubeconfig, "--xds-port", "0", "--debug-port", "0",
                                     "--monitoring-port", "0", "--webhook-port", "0", "--listen-address", "127.0.0.1",
                                     "--leader-election-namespace", lease_ns, "--identity", identity,
                                     "--debounce-quiet", "20ms", "--memory-release-interval", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    process = std::make_unique<PilotProcess>(args);
    if (auto port = process->WaitForPort("debug", 10s)) debug_port = *port;
    if (auto port = process->WaitForPort("xds", 10s)) xds_port = *port;
    if (auto port = process->WaitForPort("monitoring", 10s)) monitoring_port = *port;
  }
  std::string Metrics() const { return HttpGet(monitoring_port, "/metrics").body; }
  bool Ready(std::chrono::milliseconds timeout = 30s) const {
    return debug_port > 0 && Eventually([&] { return HttpGet(debug_port, "/ready").status == 200; }, timeout);
  }
  json Dump(const std::string& proxy_id) const {
    auto result = HttpGet(debug_port, "/debug/config_dump?proxyID=" + proxy_id);
    if (result.status != 200) return json();
    return json::parse(result.body, nullptr, false);
  }
  std::string Log() const { return process->Log(); }
};

std::string ProxyId(const std::string& ns) { return "sidecar~10.10.0.99~productpage-v1-a." + ns + "~" + ns + ".svc.cluster.local"; }

// The names of the resources of one type in a config dump.
std::vector<std::string> Names(const json& dump, const char* type, const char* field = "name") {
  std::vector<std::string> out;
  if (!dump.is_object() || !dump.contains(type)) return out;
  for (const auto& resource : dump[type]) out.push_back(resource.value(field, ""));
  return out;
}

// "ADDRESS:PORT" of every endpoint in the ClusterLoadAssignment named `cluster`.
std::vector<std::string> Endpoints(const json& dump, const std::string& cluster) {
  std::vector<std::string> out;
  if (!dump.is_object()) return out;
  for (const auto& cla : dump.value("endpoints", json::array())) {
    if (cla.value("clusterName", "") != cluster) continue;
    for (const auto& locality : cla.value("endpoints", json::array())) {
      for (const auto& lb : locality.value("lbEndpoints", json::array())) {
        const auto& address = lb["endpoint"]["address"]["socketAddress"];
        out.push_back(address.value("address", "") + ":" + std::to_string(address.value("portValue", 0)));
      }
    }
  }
  return out;
}

// The cluster each route of the virtual host `vhost` (in route config "9080") sends to, in order,
// with a "jason:" prefix for routes matching the end-user header.
std::vector<std::string> RouteTargets(const json& dump, const std::string& vhost) {
  std::vector<std::string> out;
  if (!dump.is_object()) return out;
  for (const auto& config : dump.value("routes", json::array())) {
    if (config.value("name", "") != "9080") continue;
    for (const auto& host : config.value("virtualHosts", json::array())) {
      if (host.value("name", "") != vhost) continue;
      for (const auto& route : host.value("routes", json::array())) {
        std::string prefix = route.value("match", json::object()).contains("headers") ? "jason:" : "";
        out.push_back(prefix + route.value("route", json::object()).value("cluster", "(not a single cluster)"));
      }
    }
  }
  return out;
}

// The names of the reviews service's clusters in namespace `ns`.
struct ReviewsNames {
  explicit ReviewsNames(const std::string& ns)
      : host("reviews." + ns + ".svc.cluster.local"), v1("outbound|9080|v1|" + host), v2("outbound|9080|v2|" + host) {}
  std::string host, v1, v2;
};

// Tests on the shared instance: each gets its own namespace holding the reviews service, its v1
// and v2 pods, their EndpointSlice and the rules (CreateBookinfoReviews).
class KubePilotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CMESH_REQUIRE_KUBE();
    ASSERT_EQ(InstallCrds(), "");
    namespace_ = std::make_unique<KubeNamespace>();
    ASSERT_EQ(namespace_->error(), "");
    names_ = std::make_unique<ReviewsNames>(ns());
    ASSERT_EQ(CreateBookinfoReviews(ns()), "");
  }
  const std::string& ns() const { return namespace_->name(); }
  const ReviewsNames& names() const { return *names_; }

 private:
  std::unique_ptr<KubeNamespace> namespace_;
  std::unique_ptr<ReviewsNames> names_;
};

TEST_F(KubePilotTest, ConfigDumpShowsWhatTheApiHolds) {

  Pilot pilot(KubeconfigPath(), ns());
  ASSERT_TRUE(pilot.Ready()) << pilot.Log();
  const auto& [host, v1, v2] = names();
  json dump = pilot.Dump(ProxyId(ns()));
  ASSERT_TRUE(dump.is_object()) << pilot.Log();
  EXPECT_THAT(Names(dump, "clusters"), ::testing::IsSupersetOf({"outbound|9080||" + host, v1, v2}));
  EXPECT_EQ(RouteTargets(dump, host + ":9080"), (std::vector<std::string>{"jason:" + v2, v1}));
  EXPECT_EQ(Endpoints(dump, v1), std::vector<std::string>{"10.10.0.11:9080"});
  EXPECT_EQ(Endpoints(dump, v2), std::vector<std::string>{"10.10.0.12:9080"});

  // The leader (the only replica) reports both objects valid in their status.
  ASSERT_TRUE(Eventually([&] {
    auto object = json::parse(KubectlOut({"-n", ns(), "get", "virtualservice", "reviews", "-o", "json"}),
                              nullptr, false);
    return object.is_object() && object.contains("status") && object["status"].contains("conditions");
  })) << pilot.Log();
  auto vs = json::parse(KubectlOut({"-n", ns(), "get", "virtualservice", "reviews", "-o", "json"}));
  EXPECT_FALSE(vs["status"].contains("validationMessages") && !vs["status"]["validationMessages"].empty())
      << vs["status"].dump();
}

TEST_F(KubePilotTest, ChangesAndDeletionsFollowAndAnInvalidObjectIsSkippedWithItsStatus) {
  Pilot pilot(KubeconfigPath(), ns());
  ASSERT_TRUE(pilot.Ready()) << pilot.Log();
  const auto& [host, v1, v2] = names();
  const std::string proxy = ProxyId(ns());

  // A VirtualService written as v1alpha3 is read through the storage version like any other.
  std::string all_v2 = "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: reviews\n"
                       "  namespace: " + ns() + "\nspec:\n  hosts:\n  - reviews\n  http:\n  - route:\n"
                       "    - destination:\n        host: reviews\n        subset: v2\n";
  ASSERT_EQ(Apply(all_v2), "");
  EXPECT_TRUE(Eventually([&] { return RouteTargets(pilot.Dump(proxy), host + ":9080") == std::vector<std::string>{v2}; }))
      << pilot.Dump(proxy).dump();

  // A new pod and its endpoint; then the v1 pod's deletion takes its endpoint away.
  ASSERT_EQ(MakePod(ns(), "reviews-v1-b", "reviews", "v1", "10.10.0.13"), "");
  ASSERT_EQ(Apply(EndpointSlice(ns(), "reviews",
                                {{"reviews-v1-a", "10.10.0.11"}, {"reviews-v2-a", "10.10.0.12"}, {"reviews-v1-b", "10.10.0.13"}})),
            "");
  EXPECT_TRUE(Eventually([&] {
    auto endpoints = Endpoints(pilot.Dump(proxy), v1);
    std::sort(endpoints.begin(), endpoints.end());
    return endpoints == std::vector<std::string>{"10.10.0.11:9080", "10.10.0.13:9080"};
  }));
  // Without a kubelet a graceful deletion never completes: the pod is removed at once, as a
  // kubelet would after the grace period.
  ASSERT_EQ(Kubectl({"-n", ns(), "delete", "pod", "reviews-v1-a", "--grace-period=0", "--force"}), "");
  EXPECT_TRUE(Eventually([&] { return Endpoints(pilot.Dump(proxy), v1) == std::vector<std::string>{"10.10.0.13:9080"}; }));

  // An object the schema accepts but the mesh cannot serve (an invalid RE2 regex): skipped, with
  // its status naming the field; the valid one keeps being served.
  std::string bad = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ratings-bad\n"
                    "  namespace: " + ns() + "\nspec:\n  hosts:\n  - ratings\n  http:\n  - match:\n    - uri:\n"
                    "        regex: \"(unclosed\"\n    route:\n    - destination:\n        host: ratings\n";
  ASSERT_EQ(Apply(bad), "");
  json status;
  ASSERT_TRUE(Eventually([&] {
    auto object = json::parse(KubectlOut({"-n", ns(), "get", "vs", "ratings-bad", "-o", "json"}), nullptr, false);
    if (!object.is_object() || !object.contains("status")) return false;
    status = object["status"];
    return status.contains("validationMessages") && !status["validationMessages"].empty();
  })) << pilot.Log();
  EXPECT_THAT(status["validationMessages"].dump(), HasSubstr("spec.http[0].match[0].uri.regex")) << status.dump();
  EXPECT_THAT(pilot.Log(), HasSubstr("ratings-bad"));
  EXPECT_EQ(RouteTargets(pilot.Dump(proxy), host + ":9080"), std::vector<std::string>{v2});

  // Deleting the rules: the subset clusters go, the default route comes back.
  ASSERT_EQ(Kubectl({"-n", ns(), "delete", "virtualservice", "reviews"}), "");
  ASSERT_EQ(Kubectl({"-n", ns(), "delete", "destinationrule", "reviews"}), "");
  EXPECT_TRUE(Eventually([&] {
    auto names = Names(pilot.Dump(proxy), "clusters");
    return std::find(names.begin(), names.end(), v1) == names.end() &&
           RouteTargets(pilot.Dump(proxy), host + ":9080") == std::vector<std::string>{"outbound|9080||" + host};
  })) << pilot.Dump(proxy).dump();
}

TEST_F(KubePilotTest, AConfigDirectoryAndTheApiAreServedTogether) {
  // The API has the service, its pods and the DestinationRule (its VirtualService is deleted);
  // the directory holds a VirtualService that routes everything to v2.
  ASSERT_EQ(Kubectl({"-n", ns(), "delete", "virtualservice", "reviews"}), "");
  TempDir dir;
  dir.Write("vs.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews-file\n"
                       "  namespace: " + ns() + "\nspec:\n  hosts:\n  - reviews\n  http:\n  - route:\n"
                       "    - destination:\n        host: reviews\n        subset: v2\n");
  Pilot pilot(KubeconfigPath(), ns(), "pilot", {"--config-dir", dir.path()});
  ASSERT_TRUE(pilot.Ready()) << pilot.Log();
  const std::string& host = names().host;
  json dump = pilot.Dump(ProxyId(ns()));
  // The route from the file, the subset cluster from the API's DestinationRule, its endpoint
  // from the API's pods.
  EXPECT_EQ(RouteTargets(dump, host + ":9080"), std::vector<std::string>{"outbound|9080|v2|" + host}) << pilot.Log();
  EXPECT_EQ(Endpoints(dump, "outbound|9080|v2|" + host), std::vector<std::string>{"10.10.0.12:9080"});
  // Removing the file's object falls back to the default route; the API's objects stay.
  std::filesystem::remove(dir.Path("vs.yaml"));
  EXPECT_TRUE(Eventually([&] {
    return RouteTargets(pilot.Dump(ProxyId(ns())), host + ":9080") ==
           std::vector<std::string>{"outbound|9080||" + host};
  })) << pilot.Log();
  EXPECT_EQ(Endpoints(pilot.Dump(ProxyId(ns())), "outbound|9080|v2|" + host),
            std::vector<std::string>{"10.10.0.12:9080"});
}

// A kube-apiserver + etcd of the test's own (scripts/kube-up in a temporary CMESH_KUBE_DIR), for
// what would disturb the shared instance: restarting the apiserver and compacting etcd.
// While it exists, the helpers above (Apply, Kubectl, ...) talk to it.
class PrivateCluster {
 public:
  PrivateCluster() {
    CommandResult up = RunCommand({SourceDir() + "/scripts/kube-up"}, Options(600s));
    if (up.exit_code != 0) error_ = "kube-up: " + up.err + up.out;
    CurrentKubeconfig() = kubeconfig();
  }
  ~PrivateCluster() {
    CurrentKubeconfig() = KubeconfigPath();
    RunCommand({SourceDir() + "/scripts/kube-down"}, Options(120s));
  }
  // kubectl apply -f crds/, then waits until both are Established ("" or what went wrong).
  // (kubectl wait fails on a CRD that has no conditions yet, so it polls.)
  std::string InstallCrds() const {
    if (std::string error = Kubectl({"apply", "-f", SourceDir() + "/crds"}); !error.empty()) return error;
    for (const char* crd : {"virtualservices.networking.istio.io", "destinationrules.networking.istio.io"}) {
      if (!Eventually([&] {
            return KubectlOut({"get", "crd", crd, "-o",
                               "jsonpath={.status.conditions[?(@.type==\"Established\")].status}"}) == "True";
          })) {
        return std::string(crd) + " is not Established";
      }
    }
    return "";
  }
  const std::string& error() const { return error_; }
  std::string kubeconfig() const { return dir_.path() + "/kubeconfig"; }
  std::string Path(const std::string& file) const { return dir_.path() + "/" + file; }
  std::string RestartApiserver() const {
    CommandResult result = RunCommand({SourceDir() + "/scripts/kube-up", "--restart-apiserver"}, Options(300s));
    return result.exit_code == 0 ? "" : result.err + result.out;
  }
  // Compacts etcd at its current revision (through etcd's JSON gateway): every older
  // resourceVersion is gone.
  std::string CompactEtcd() const {
    std::string endpoint;
    std::string env = ReadFile(dir_.path() + "/env");
    const std::string name = "CMESH_ETCD_ENDPOINT=";
    if (auto at = env.find(name); at != std::string::npos) {
      endpoint = env.substr(at + name.size(), env.find('\n', at) - at - name.size());
      if (!endpoint.empty() && (endpoint.front() == '"' || endpoint.front() == '\'')) {
        endpoint = endpoint.substr(1, endpoint.size() - 2);
      }
    }
    if (endpoint.empty()) return "no CMESH_ETCD_ENDPOINT in " + dir_.path() + "/env";
    CommandResult range = RunCommand({"/usr/bin/curl", "-sS", "-X", "POST", endpoint + "/v3/kv/range", "-d", R"({"key":"Lw=="})"});
    auto answer = json::parse(range.out, nullptr, false);
    if (range.exit_code != 0 || !answer.is_object() || !answer.contains("header")) return "etcd range: " + range.err + range.out;
    std::string revision = answer["header"].value("revision", "");
    CommandResult compact = RunCommand({"/usr/bin/curl", "-sS", "-X", "POST", endpoint + "/v3/kv/compaction", "-d",
                                        json{{"revision", revision}, {"physical", true}}.dump()});
    if (compact.exit_code != 0 || compact.out.find("error") != std::string::npos) {
      return "etcd compaction: " + compact.err + compact.out;
    }
    return "";
  }

 private:
  CommandOptions Options(std::chrono::seconds timeout) const {
    CommandOptions options;
    options.env = {"CMESH_KUBE_DIR=" + dir_.path()};
    options.timeout = timeout;
    return options;
  }
  TempDir dir_;
  std::string error_;
};

// The value of the series whose line starts with `series` (name and labels), or -1.
double MetricValue(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// Names that occur more than once in `names`.
std::vector<std::string> Duplicates(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  std::vector<std::string> out;
  for (std::size_t i = 1; i < names.size(); ++i) {
    if (names[i] == names[i - 1]) out.push_back(names[i]);
  }
  return out;
}

TEST(KubePilotPrivateClusterTest, SurvivesAnApiserverRestartAndACompactedWatch) {
  CMESH_REQUIRE_KUBE();  // the binaries are built by the fixture
  PrivateCluster cluster;
  ASSERT_EQ(cluster.error(), "");
  ASSERT_EQ(cluster.InstallCrds(), "");
  const std::string ns = "restart";
  ASSERT_EQ(Kubectl({"create", "namespace", ns}), "");
  ASSERT_EQ(CreateBookinfoReviews(ns), "");
  Pilot pilot(cluster.kubeconfig(), ns);
  ASSERT_TRUE(pilot.Ready()) << pilot.Log();
  const auto [host, v1, v2] = ReviewsNames(ns);
  const std::string proxy = ProxyId(ns);
  ASSERT_EQ(RouteTargets(pilot.Dump(proxy), host + ":9080"), (std::vector<std::string>{"jason:" + v2, v1}));

  // 1. The apiserver restarts (etcd keeps its data); the pilot's watches resume, and a change made
  //    afterwards arrives once.
  ASSERT_EQ(cluster.RestartApiserver(), "");
  std::string all_v2 = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
                       "  namespace: " + ns + "\nspec:\n  hosts:\n  - reviews\n  http:\n  - route:\n"
                       "    - destination:\n        host: reviews\n        subset: v2\n";
  ASSERT_TRUE(Eventually([&] { return Apply(all_v2).empty(); }));
  EXPECT_TRUE(Eventually([&] { return RouteTargets(pilot.Dump(proxy), host + ":9080") == std::vector<std::string>{v2}; }))
      << pilot.Log();

  // 2. Changes the pilot cannot see (it is stopped), etcd compacted past everything it saw, and the
  //    apiserver restarted so its watches must resume from a version that no longer exists: 410,
  //    then a new list whose difference is applied.
  ASSERT_EQ(::kill(pilot.process->pid(), SIGSTOP), 0);
  ASSERT_EQ(Apply(ReviewsRules(ns)), "");  // back to jason → v2, others → v1
  ASSERT_EQ(MakePod(ns, "reviews-v1-b", "reviews", "v1", "10.10.0.13"), "");
  ASSERT_EQ(Apply(EndpointSlice(ns, "reviews", {{"reviews-v1-b", "10.10.0.13"}, {"reviews-v2-a", "10.10.0.12"}})), "");
  ASSERT_EQ(Kubectl({"-n", ns, "delete", "pod", "reviews-v1-a", "--grace-period=0", "--force"}), "");
  ASSERT_EQ(cluster.CompactEtcd(), "");
  ASSERT_EQ(cluster.RestartApiserver(), "");
  ASSERT_EQ(::kill(pilot.process->pid(), SIGCONT), 0);
  EXPECT_TRUE(Eventually([&] {
    json dump = pilot.Dump(proxy);
    return RouteTargets(dump, host + ":9080") == std::vector<std::string>{"jason:" + v2, v1} &&
           Endpoints(dump, v1) == std::vector<std::string>{"10.10.0.13:9080"};
  }, 60s)) << pilot.Log();
  EXPECT_THAT(pilot.Log(), HasSubstr("resource version expired; listing again"));
  // The metrics say so too: lists after 410 Gone, and synced again.
  const std::string metrics = pilot.Metrics();
  EXPECT_GE(MetricValue(metrics, "cmesh_k8s_lists_total{kind=\"Pod\",reason=\"expired\"}"), 1) << metrics;
  EXPECT_EQ(MetricValue(metrics, "cmesh_k8s_lists_total{kind=\"Pod\",reason=\"start\"}"), 1) << metrics;
  EXPECT_EQ(MetricValue(metrics, "cmesh_k8s_synced"), 1) << metrics;
  EXPECT_GE(MetricValue(metrics, "cmesh_k8s_watch_events_total{kind=\"Pod\"}"), 1) << metrics;
#ifdef CMESH_PROMTOOL
  {
    CommandResult check = RunCommand({CMESH_PROMTOOL, "check", "metrics"}, [&] {
      CommandOptions options;
      options.stdin_text = metrics;
      return options;
    }());
    // 0: clean; 3: lint only. The one lint accepted is Istio's own counter names without "_total".
    EXPECT_TRUE(check.exit_code == 0 || check.exit_code == 3) << check.out << check.err;
    std::istringstream lines(check.out + check.err);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_THAT(line, HasSubstr("counter metrics should have \"_total\" suffix"));
    }
  }
#endif
  json dump = pilot.Dump(proxy);
  EXPECT_EQ(Duplicates(Names(dump, "clusters")), std::vector<std::string>{});
  EXPECT_EQ(Duplicates(Names(dump, "endpoints", "clusterName")), std::vector<std::string>{});
  EXPECT_EQ(Endpoints(dump, v2), std::vector<std::string>{"10.10.0.12:9080"});

  // What the pilot serves is what `cmeshctl compile` gives for the same objects, read back from
  // the API (the cluster is private: nothing else changes it).
  TempDir objects;
  std::string listed = KubectlOut({"get", "namespaces,services,endpointslices,pods,virtualservices,destinationrules", "-A",
                                   "-o", "yaml"});
  ASSERT_FALSE(listed.empty());
  objects.Write("objects.yaml", listed);
  CommandResult compiled =
      RunCommand({BinDir() + "/cmeshctl", "compile", "-f", objects.Path("objects.yaml"), "--proxy", proxy});
  ASSERT_EQ(compiled.exit_code, 0) << compiled.err;
  EXPECT_EQ(json::parse(compiled.out, nullptr, false), pilot.Dump(proxy));
}

// The Lease's holder, or "" when none.
std::string LeaseHolder(const std::string& ns) {
  auto lease = json::parse(KubectlOut({"-n", ns, "get", "lease", "cmesh-pilot-leader", "-o", "json"}), nullptr, false);
  if (!lease.is_object()) return "";
  return lease["spec"].value("holderIdentity", "");
}

std::string InvalidVirtualService(const std::string& ns, const std::string& name) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: " + name + "\n  namespace: " +
         ns + "\nspec:\n  hosts:\n  - ratings\n  http:\n  - match:\n    - uri:\n        regex: \"(unclosed\"\n"
         "    route:\n    - destination:\n        host: ratings\n";
}

bool HasValidationMessages(const std::string& ns, const std::string& name) {
  auto object = json::parse(KubectlOut({"-n", ns, "get", "vs", name, "-o", "json"}), nullptr, false);
  return object.is_object() && object.contains("status") && object["status"].contains("validationMessages") &&
         !object["status"]["validationMessages"].empty();
}

TEST_F(KubePilotTest, TwoReplicasServeAndOneLeaderWritesStatusThenHandsOver) {
  auto a = std::make_unique<Pilot>(KubeconfigPath(), ns(), "pilot-a");
  auto b = std::make_unique<Pilot>(KubeconfigPath(), ns(), "pilot-b");
  ASSERT_TRUE(a->Ready()) << a->Log();
  ASSERT_TRUE(b->Ready()) << b->Log();
  // Both serve.
  const std::string& host = names().host;
  EXPECT_EQ(RouteTargets(a->Dump(ProxyId(ns())), host + ":9080").size(), 2u);
  EXPECT_EQ(RouteTargets(b->Dump(ProxyId(ns())), host + ":9080").size(), 2u);

  std::string holder;
  ASSERT_TRUE(Eventually([&] { return !(holder = LeaseHolder(ns())).empty(); }));
  const bool a_leads = holder.rfind("pilot-a", 0) == 0;
  ASSERT_TRUE(a_leads || holder.rfind("pilot-b", 0) == 0) << holder;
  std::unique_ptr<Pilot>& leader = a_leads ? a : b;
  std::unique_ptr<Pilot>& follower = a_leads ? b : a;

  ASSERT_EQ(Apply(InvalidVirtualService(ns(), "bad-one")), "");
  ASSERT_TRUE(Eventually([&] { return HasValidationMessages(ns(), "bad-one"); })) << leader->Log();
  EXPECT_THAT(leader->Log(), HasSubstr("status: wrote VirtualService/" + ns() + "/bad-one"));
  EXPECT_THAT(follower->Log(), ::testing::Not(HasSubstr("status: wrote")));

  // The leader dies without releasing the Lease: the follower takes over once it expires (15 s).
  ASSERT_EQ(leader->process->SignalAndWait(SIGKILL, 10s), std::nullopt);  // killed: no exit code
  ASSERT_TRUE(Eventually([&] { return LeaseHolder(ns()).rfind(a_leads ? "pilot-b" : "pilot-a", 0) == 0; }, 40s))
      << follower->Log();
  ASSERT_EQ(Apply(InvalidVirtualService(ns(), "bad-two")), "");
  ASSERT_TRUE(Eventually([&] { return HasValidationMessages(ns(), "bad-two"); })) << follower->Log();
  EXPECT_THAT(follower->Log(), HasSubstr("status: wrote VirtualService/" + ns() + "/bad-two"));
}

TEST(KubePilotPrivateClusterTest, RunsWithExactlyTheChartsRbac) {
  CMESH_REQUIRE_KUBE();  // the binaries are built by the fixture
  // A private cluster: binding the pilot identity here must not grant it anything in the shared
  // one, whose tests check that it has no rights.
  PrivateCluster cluster;
  ASSERT_EQ(cluster.error(), "");
  ASSERT_EQ(cluster.InstallCrds(), "");
  const std::string ns = "rbac";
  ASSERT_EQ(Kubectl({"create", "namespace", ns}), "");
  ASSERT_EQ(Kubectl({"create", "namespace", "istio-system"}), "");
  ASSERT_EQ(CreateBookinfoReviews(ns), "");
  const std::string sa = "system:serviceaccount:istio-system:cmesh-pilot";
  // Without the chart's RBAC the identity can read nothing: the pilot says which rule is missing.
  Pilot pilot(cluster.Path("pilot.kubeconfig"), "istio-system", "rbac");
  ASSERT_GT(pilot.debug_port, 0) << pilot.Log();
  EXPECT_TRUE(Eventually([&] { return pilot.Log().find("403") != std::string::npos; }, 20s)) << pilot.Log();
  EXPECT_THAT(pilot.Log(), HasSubstr(sa));
  EXPECT_THAT(pilot.Log(), HasSubstr("the ClusterRole needs"));
  EXPECT_NE(HttpGet(pilot.debug_port, "/ready").status, 200);

  // The chart's RBAC, rendered by helm as an install would.
  CommandResult rendered = RunCommand({KubeBin("helm"), "template", "cmesh-base", SourceDir() + "/charts/base",
                                       "--namespace", "istio-system"});
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  ASSERT_EQ(Apply(rendered.out), "");
  ASSERT_TRUE(pilot.Ready(60s)) << pilot.Log();
  const std::string host = ReviewsNames(ns).host;
  EXPECT_EQ(RouteTargets(pilot.Dump(ProxyId(ns)), host + ":9080").size(), 2u);
  ASSERT_EQ(Apply(InvalidVirtualService(ns, "bad-rbac")), "");
  EXPECT_TRUE(Eventually([&] { return HasValidationMessages(ns, "bad-rbac"); }, 40s)) << pilot.Log();

  // And no more than it needs.
  auto can = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"auth", "can-i", "--as", sa, "--as-group", "system:serviceaccounts"});
    return KubectlOut(args).rfind("yes", 0) == 0;
  };
  EXPECT_TRUE(can({"watch", "pods", "-A"}));
  EXPECT_TRUE(can({"list", "endpointslices.discovery.k8s.io", "-A"}));
  EXPECT_TRUE(can({"update", "virtualservices.networking.istio.io", "--subresource=status", "-n", ns}));
  EXPECT_TRUE(can({"update", "leases.coordination.k8s.io", "-n", "istio-system"}));
  EXPECT_FALSE(can({"update", "virtualservices.networking.istio.io", "-n", ns}));
  EXPECT_FALSE(can({"create", "pods", "-n", ns}));
  EXPECT_FALSE(can({"get", "secrets", "-n", ns}));
  EXPECT_FALSE(can({"list", "configmaps", "-A"}));
  EXPECT_FALSE(can({"update", "leases.coordination.k8s.io", "-n", ns}));
  EXPECT_FALSE(can({"delete", "leases.coordination.k8s.io", "-n", "istio-system"}));
}

}  // namespace
}  // namespace cmesh::testing
