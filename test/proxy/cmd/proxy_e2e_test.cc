// The mesh on loopback: cmesh-pilot serving examples/bookinfo (copied to a temp dir whose pod
// addresses are this test's own 127.x.y.N block), one cmesh-demo-backend per pod, and cmesh-proxy
// as productpage's sidecar, used as an explicit HTTP proxy (Host header). Checks what Istio users
// rely on: version, weight and header routing, fault injection, live changes under load without
// dropped requests, a NACKed resource leaving the previous config serving, a pilot restart
// without dropped requests, metrics that promtool accepts, and the drain on SIGTERM.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <regex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "loopback_client.h"
#include "pilot_process.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
constexpr auto kDeadline = std::chrono::seconds(20);
constexpr char kProductpageNode[] = "sidecar~@IP1~productpage-v1-1.default~default.svc.cluster.local";

// One request through the proxy on a new connection; the whole answer.
std::string Request(int port, const std::string& raw) { return ExchangeTcp(port, raw); }

std::string Get(int port, const std::string& host, const std::string& path, const std::string& user = "") {
  return Request(port, "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" +
                           (user.empty() ? "" : "end-user: " + user + "\r\n") + "Connection: close\r\n\r\n");
}

int Status(const std::string& response) {
  return response.size() > 12 && response.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(response.substr(9, 3)) : 0;
}

std::string Backend(const std::string& response) {
  auto at = response.find("x-cmesh-backend: ");
  return at == std::string::npos ? "" : response.substr(at + 17, response.find("\r\n", at) - at - 17);
}

class MeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    // This process's own loopback block, so parallel test processes never share an address.
    const int pid = static_cast<int>(::getpid());
    block_ = "127." + std::to_string(20 + pid % 200) + "." + std::to_string((pid / 200) % 250) + ".";
    const std::string source = SourceDir() + "/examples/bookinfo";
    for (const char* file : {"services.yaml", "destination-rules.yaml", "virtual-service-reviews.yaml"}) {
      fs::copy_file(source + "/" + file, dir_.Path(file));
    }
    std::string pods = ReadFile(source + "/pods.yaml");
    pods = std::regex_replace(pods, std::regex("127\\.0\\.10\\."), block_);
    std::ofstream(dir_.Path("pods.yaml")) << pods;

    for (const auto& [service, version, n] : std::vector<std::tuple<std::string, std::string, int>>{
             {"details", "v1", 2}, {"reviews", "v1", 3}, {"reviews", "v2", 4}, {"reviews", "v3", 5}, {"ratings", "v1", 6}}) {
      auto backend = std::make_unique<PilotProcess>(
          "cmesh-demo-backend",
          std::vector<std::string>{"--listen", block_ + std::to_string(n) + ":9080", "--service", service, "--version", version});
      ASSERT_TRUE(backend->started());
      ASSERT_TRUE(backend->WaitForPort("backend", kDeadline)) << backend->Log();
      backends_.push_back(std::move(backend));
    }
    StartPilot(0);
    StartProxy();
  }

  void StartPilot(int xds_port) {
    pilot_ = std::make_unique<PilotProcess>(std::vector<std::string>{
        "--config-dir", dir_.path(), "--xds-port", std::to_string(xds_port), "--debug-port", "0", "--monitoring-port",
        "0", "--listen-address", "127.0.0.1", "--debounce-quiet", "50ms"});
    ASSERT_TRUE(pilot_->started());
    auto port = pilot_->WaitForPort("xds", kDeadline);
    ASSERT_TRUE(port) << pilot_->Log();
    xds_port_ = *port;
    auto debug = pilot_->WaitForPort("debug", kDeadline);
    ASSERT_TRUE(debug) << pilot_->Log();
    pilot_debug_port_ = *debug;
  }

  void StartProxy() {
    const std::string node = std::regex_replace(kProductpageNode, std::regex("@IP"), block_);
    proxy_ = std::make_unique<PilotProcess>(
        "cmesh-proxy", std::vector<std::string>{"--xds-address", "127.0.0.1:" + std::to_string(xds_port_), "--node-id", node,
                                                "--labels", "app=productpage,version=v1", "--outbound-address", "127.0.0.1",
                                                "--outbound-port", "0", "--inbound-port", "0", "--admin-port", "0", "--health-port", "0",
                                                "--stats-port", "0", "--status-address", "127.0.0.1", "--access-log",
                                                dir_.Path("access.log"), "--drain-duration", "3s"});
    ASSERT_TRUE(proxy_->started());
    auto outbound = proxy_->WaitForPort("outbound", kDeadline);
    auto admin = proxy_->WaitForPort("admin", kDeadline);
    auto health = proxy_->WaitForPort("health", kDeadline);
    auto stats = proxy_->WaitForPort("stats", kDeadline);
    ASSERT_TRUE(outbound && admin && health && stats) << proxy_->Log();
    outbound_ = *outbound;
    admin_ = *admin;
    health_ = *health;
    stats_ = *stats;
    // Ready once the first complete configuration arrived.
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (HttpGet(health_, "/healthz/ready").status != 200 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(HttpGet(health_, "/healthz/ready").status, 200) << proxy_->Log();
  }

  // Rewrites a VirtualService file (atomically, as kubectl-like tools and editors do) and waits
  // until `probe` says the proxy routes by it.
  bool Apply(const std::string& rule_file, const std::string& as, const std::function<bool()>& probe) {
    const std::string staged = dir_.Path("." + as + ".tmp");
    fs::copy_file(SourceDir() + "/examples/bookinfo/rules/" + rule_file, staged, fs::copy_options::overwrite_existing);
    fs::rename(staged, dir_.Path(as));
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      if (probe()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::map<std::string, int> Sample(int n, const std::string& user = "") {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) ++seen[Backend(Get(outbound_, "reviews:9080", "/reviews/" + std::to_string(i), user))];
    return seen;
  }

  TempDir dir_;
  std::string block_;
  std::vector<std::unique_ptr<PilotProcess>> backends_;
  std::unique_ptr<PilotProcess> pilot_;
  std::unique_ptr<PilotProcess> proxy_;
  int xds_port_ = 0, pilot_debug_port_ = 0;
  int outbound_ = 0, admin_ = 0, health_ = 0, stats_ = 0;
};

TEST_F(MeshTest, VersionWeightAndHeaderRoutingAndFaultAbort) {
  // All to v1.
  auto all_v1 = Sample(20);
  EXPECT_EQ(all_v1["reviews-v1"], 20) << proxy_->Log();

  // 80/20 v1/v2: 400 requests, within 5 standard deviations of Binomial(400, 0.8) (±40).
  ASSERT_TRUE(Apply("reviews-80-20.yaml", "virtual-service-reviews.yaml",
                    [&] { return Sample(20)["reviews-v2"] > 0; }));
  auto split = Sample(400);
  EXPECT_NEAR(split["reviews-v1"], 320, 40);
  EXPECT_EQ(split["reviews-v1"] + split["reviews-v2"], 400);

  // end-user: jason → v2, others v1.
  ASSERT_TRUE(Apply("reviews-jason-v2.yaml", "virtual-service-reviews.yaml",
                    [&] { return Sample(5, "jason")["reviews-v2"] == 5; }));
  EXPECT_EQ(Sample(20, "jason")["reviews-v2"], 20);
  EXPECT_EQ(Sample(20, "alice")["reviews-v1"], 20);
  EXPECT_EQ(Sample(20)["reviews-v1"], 20);

  // A fault abort for jason's ratings requests.
  ASSERT_TRUE(Apply("ratings-abort.yaml", "virtual-service-ratings.yaml",
                    [&] { return Status(Get(outbound_, "ratings:9080", "/ratings/1", "jason")) == 500; }));
  const std::string aborted = Get(outbound_, "ratings:9080", "/ratings/1", "jason");
  EXPECT_EQ(Status(aborted), 500);
  EXPECT_THAT(aborted, HasSubstr("x-cmesh-response-flags: FI"));
  EXPECT_EQ(Backend(Get(outbound_, "ratings:9080", "/ratings/1", "alice")), "ratings-v1");

  // The access log has one line per request, with the flags.
  const std::string log = ReadFile(dir_.Path("access.log"));
  EXPECT_THAT(log, HasSubstr("\"GET /ratings/1 HTTP/1.1\" 500 FI "));
  EXPECT_THAT(log, HasSubstr("\"outbound|9080|v2|reviews.default.svc.cluster.local\""));
}

TEST_F(MeshTest, LiveChangesAndAPilotRestartDropNoRequest) {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::string last_failure;
  std::mutex failure_mutex;
  std::thread load([&] {
    while (!stop) {
      const std::string r = Get(outbound_, "reviews:9080", "/load");
      if (Status(r) == 200) {
        ++ok;
      } else {
        ++failed;
        std::lock_guard lock(failure_mutex);
        last_failure = r;
      }
    }
  });
  EXPECT_TRUE(Apply("reviews-80-20.yaml", "virtual-service-reviews.yaml", [&] { return Sample(20)["reviews-v2"] > 0; }));
  // The pilot goes away and comes back on the same port; the proxy keeps routing on what it has.
  EXPECT_EQ(pilot_->SignalAndWait(SIGTERM, kDeadline), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  StartPilot(xds_port_);
  EXPECT_TRUE(Apply("reviews-jason-v2.yaml", "virtual-service-reviews.yaml",
                    [&] { return Sample(3, "jason")["reviews-v2"] == 3; }))
      << proxy_->Log();
  stop = true;
  load.join();
  EXPECT_GT(ok.load(), 50);
  EXPECT_EQ(failed.load(), 0) << last_failure;
}

TEST_F(MeshTest, AResourceTheProxyCannotHonourIsNackedAndThePreviousConfigServes) {
  EXPECT_EQ(Sample(10)["reviews-v1"], 10);
  // retryRemoteLocalities becomes Envoy's previous_priorities retry priority, which the proxy's
  // router does not implement: the route configuration is refused (NACK), and what the proxy had
  // keeps serving.
  std::ofstream(dir_.Path("virtual-service-reviews.yaml")) << R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v3}
    retries: {attempts: 2, retryRemoteLocalities: true}
)";
  nlohmann::json entry;
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    auto list = nlohmann::json::parse(HttpGet(pilot_debug_port_, "/debug/syncz").body, nullptr, false);
    if (list.is_array() && !list.empty() && !list[0]["last_nack"].is_null()) {
      entry = list[0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(entry.is_null()) << proxy_->Log();
  EXPECT_EQ(entry["last_nack"]["type"], "RDS");
  EXPECT_THAT(entry["last_nack"]["message"].get<std::string>(), HasSubstr("field retry_priority is not supported by cmesh-proxy"));
  EXPECT_EQ(Sample(10)["reviews-v1"], 10);  // still the previous routes
  auto stats = HttpGet(stats_, "/stats/prometheus");
  EXPECT_THAT(stats.body, HasSubstr("cmesh_proxy_xds_nacks_total{type=\"RDS\"} 1"));
}

// A VirtualService's corsPolicy, through cmesh-pilot's compiler into the proxy's router.
TEST_F(MeshTest, CorsPolicyOfAVirtualServiceIsApplied) {
  std::ofstream(dir_.Path("virtual-service-reviews.yaml")) << R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - corsPolicy:
      allowOrigins: [{exact: "https://shop.example"}]
      allowMethods: [GET, POST]
      maxAge: 1h
    route:
    - destination: {host: reviews, subset: v2}
)";
  const std::string preflight_request =
      "OPTIONS /reviews/1 HTTP/1.1\r\nHost: reviews:9080\r\nOrigin: https://shop.example\r\n"
      "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n";
  std::string preflight;
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    preflight = Request(outbound_, preflight_request);
    if (preflight.find("access-control-allow-origin") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_THAT(preflight, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(preflight, HasSubstr("access-control-allow-origin: https://shop.example\r\n"));
  EXPECT_THAT(preflight, HasSubstr("access-control-allow-methods: GET,POST\r\n"));
  EXPECT_THAT(preflight, HasSubstr("access-control-max-age: 3600\r\n"));
  EXPECT_EQ(Backend(preflight), "");
  EXPECT_EQ(Backend(Get(outbound_, "reviews:9080", "/reviews/1")), "reviews-v2");
}

// A DestinationRule's consistentHash on a header: each user stays on one endpoint of the
// (subset-less) reviews cluster, and the users spread over the three.
TEST_F(MeshTest, ConsistentHashKeepsEachUserOnOneEndpoint) {
  fs::remove(dir_.Path("virtual-service-reviews.yaml"));  // the default route: all three versions
  std::ofstream(dir_.Path("destination-rules.yaml")) << R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: end-user}
)";
  // Wait until the proxy has the ring hash (the two file changes may reach it in two pushes: a
  // round-robin moment between them would split a user), then until the default route serves
  // more than one version (the VirtualService is gone).
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline &&
         HttpGet(admin_, "/config_dump").body.find("RING_HASH") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(HttpGet(admin_, "/config_dump").body.find("RING_HASH"), std::string::npos);
  while (std::chrono::steady_clock::now() < deadline) {
    std::set<std::string> seen;
    for (int user = 0; user < 20; ++user) seen.insert(Backend(Get(outbound_, "reviews:9080", "/", "u" + std::to_string(user))));
    if (seen.size() > 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::map<std::string, std::set<std::string>> backends_of_user;
  std::set<std::string> all;
  for (int user = 0; user < 12; ++user) {
    for (int i = 0; i < 5; ++i) {
      const std::string b = Backend(Get(outbound_, "reviews:9080", "/r", "user-" + std::to_string(user)));
      backends_of_user["user-" + std::to_string(user)].insert(b);
      all.insert(b);
    }
  }
  for (const auto& [user, backends] : backends_of_user) EXPECT_EQ(backends.size(), 1u) << user;
  EXPECT_GT(all.size(), 1u);
}

TEST_F(MeshTest, AdminHealthAndPrometheusMetrics) {
  Sample(5);
  EXPECT_EQ(HttpGet(admin_, "/ready").status, 200);
  auto dump = nlohmann::json::parse(HttpGet(admin_, "/config_dump").body, nullptr, false);
  ASSERT_TRUE(dump.is_object());
  EXPECT_FALSE(dump["routes"].empty());
  EXPECT_FALSE(dump["version_info"]["RDS"].get<std::string>().empty());
  // The proxy keeps resources serialised and decodes them for the dump: they come out whole.
  const std::string v1_cluster = "outbound|9080|v1|reviews.default.svc.cluster.local";
  bool cluster_shown = false, endpoints_shown = false;
  for (const auto& cluster : dump["clusters"]) {
    if (cluster.value("name", "") == v1_cluster) cluster_shown = cluster.value("type", "") == "EDS";
  }
  for (const auto& assignment : dump["endpoints"]) {
    if (assignment.value("clusterName", "") != v1_cluster) continue;
    endpoints_shown = assignment["endpoints"][0]["lbEndpoints"][0]["endpoint"]["address"]["socketAddress"]
                          .value("address", "") == block_ + "3";
  }
  EXPECT_TRUE(cluster_shown) << dump["clusters"].dump();
  EXPECT_TRUE(endpoints_shown) << dump["endpoints"].dump();
  bool route_shown = false;
  for (const auto& routes : dump["routes"]) {
    for (const auto& host : routes["virtualHosts"]) route_shown = route_shown || !host["routes"].empty();
  }
  EXPECT_TRUE(route_shown) << dump["routes"].dump();
  const std::string clusters = HttpGet(admin_, "/clusters").body;
  const std::string v1 = "outbound|9080|v1|reviews.default.svc.cluster.local::" + block_ + "3:9080::";
  EXPECT_THAT(clusters, HasSubstr(v1 + "weight::1\n"));
  // The 5 requests above went over connections to it: at least one was opened.
  std::smatch total;
  ASSERT_TRUE(std::regex_search(clusters, total, std::regex(std::regex_replace(v1, std::regex(R"([|.])"), R"(\$&)") + "cx_total::([0-9]+)")))
      << clusters;
  EXPECT_GE(std::stoi(total[1].str()), 1);
  auto metrics = HttpGet(stats_, "/stats/prometheus");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("istio_requests_total{reporter=\"source\",source_workload=\"productpage\""));
  EXPECT_THAT(metrics.body, HasSubstr("destination_service=\"reviews.default.svc.cluster.local\""));
  EXPECT_THAT(metrics.body, HasSubstr("destination_version=\"v1\""));
  EXPECT_THAT(metrics.body, HasSubstr("response_code=\"200\""));
  EXPECT_THAT(metrics.body, HasSubstr("istio_request_duration_milliseconds_bucket"));
  EXPECT_THAT(metrics.body, HasSubstr("cmesh_proxy_xds_connected 1"));
  // HTTP/1.1 requests: request_protocol http and no gRPC status.
  EXPECT_THAT(metrics.body, HasSubstr("request_protocol=\"http\",response_code=\"200\",grpc_response_status=\"\""));
  // Resilience counters exist from the start (nothing tripped here).
  EXPECT_THAT(metrics.body, HasSubstr("cmesh_proxy_upstream_overflow_total{kind=\"pending\"} 0"));
  EXPECT_THAT(metrics.body, HasSubstr("cmesh_proxy_outlier_detection_ejections_total 0"));
#ifdef CMESH_PROMTOOL
  const std::string file = dir_.Path("metrics.txt");
  std::ofstream(file) << metrics.body;
  const int status = std::system((std::string(CMESH_PROMTOOL) + " check metrics < " + file + " > " + dir_.Path("lint.txt") + " 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(status));
  // 0: clean; 3: lint problems only (1 would be a parse error). The one lint accepted is Istio's
  // own name istio_request_duration_milliseconds, which promtool would have in seconds; cmesh
  // keeps Istio's names so that dashboards written for Istio work.
  const int code = WEXITSTATUS(status);
  const std::string lint = ReadFile(dir_.Path("lint.txt"));
  EXPECT_TRUE(code == 0 || code == 3) << lint;
  std::istringstream lines(lint);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_THAT(line, HasSubstr("istio_request_duration_milliseconds use base unit \"seconds\""));
  }
#endif
}

TEST_F(MeshTest, SigtermDrainsAndExitsZero) {
  EXPECT_EQ(Sample(3)["reviews-v1"], 3);
  EXPECT_EQ(proxy_->SignalAndWait(SIGTERM, kDeadline), 0) << proxy_->Log();
  EXPECT_THAT(proxy_->Log(), HasSubstr("draining"));
  EXPECT_EQ(Request(outbound_, "GET / HTTP/1.1\r\nHost: reviews:9080\r\n\r\n"), "");  // listener closed
}

}  // namespace
}  // namespace cmesh::testing
