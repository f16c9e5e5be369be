// The resilience features on the request path, on real sockets: a real Worker with a
// hand-built xDS state and ScriptedBackend upstreams that answer 200 or 503, stay mute, or are
// killed. Circuit breaker overflow (503 UO, counted), outlier ejection and return, retries
// refused by the retry budget, mirroring (delivered; a dead or mute mirror changes nothing),
// and the route idle timeout (408 SI).
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "xds_json.h"
#include "cmesh/proxy_core/config_snapshot.h"
#include "cmesh/proxy_core/proxy_validator.h"
#include "cmesh/proxy_core/worker.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "loopback_client.h"
#include "scripted_backend.h"

namespace cmesh::proxy_core {
namespace {

using xds_json::FromJson;
using xds_json::ResourceFromJson;

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::ScriptedBackend;
constexpr auto kDeadline = std::chrono::seconds(15);

// A raw HTTP/1.1 client connection to the proxy.
class Client {
 public:
  explicit Client(int port) : fd_(cmesh::testing::ConnectTcp(port)) {}
  ~Client() { ::close(fd_); }
  bool connected() const { return fd_ >= 0; }
  void Send(const std::string& data) { ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL); }
  void Get(const std::string& path) { Send("GET " + path + " HTTP/1.1\r\nHost: reviews:9080\r\n\r\n"); }
  // One complete response (Content-Length framing; the proxy's answers and the backends' have it).
  std::string ReadResponse() {
    while (true) {
      const auto end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string lower = buffer_.substr(0, end);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto cl = lower.find("content-length: ");
        const std::size_t total = end + 4 + (cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 16)));
        if (buffer_.size() >= total) {
          std::string response = buffer_.substr(0, total);
          buffer_.erase(0, total);
          return response;
        }
      }
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        std::string rest = std::move(buffer_);
        buffer_.clear();
        return rest;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  std::string Exchange(const std::string& path) {
    Get(path);
    return ReadResponse();
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

std::string BackendOf(const std::string& response) {
  const auto at = response.find("x-backend: ");
  if (at == std::string::npos) return "";
  return response.substr(at + 11, response.find("\r\n", at) - at - 11);
}

template <typename F>
bool Eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string Cluster(const std::string& name, const std::string& extra = "") {
  return R"({"name":")" + name + R"(","type":"EDS","edsClusterConfig":{"edsConfig":{"ads":{}}},"connectTimeout":"1s")" +
         (extra.empty() ? "" : "," + extra) + "}";
}

std::string Assignment(const std::string& name, const std::vector<std::pair<std::string, int>>& endpoints) {
  std::string lb;
  for (const auto& [ip, port] : endpoints) {
    if (!lb.empty()) lb += ",";
    lb += R"({"endpoint":{"address":{"socketAddress":{"address":")" + ip + R"(","portValue":)" + std::to_string(port) + "}}}}";
  }
  return R"({"clusterName":")" + name + R"(","endpoints":[{"locality":{},"lbEndpoints":[)" + lb + "]}]}";
}

class ResilienceProxyTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (worker_) worker_->Stop();
  }

  ScriptedBackend& Backend(const std::string& name) {
    auto& slot = backends_[name];
    if (!slot) slot = std::make_unique<ScriptedBackend>("127.0.0.1", name);
    EXPECT_GT(slot->port(), 0);
    return *slot;
  }

  // Adds cluster `name` whose endpoints are the named backends (or raw ports).
  void AddCluster(const std::string& name, const std::vector<std::string>& backends, const std::string& extra = "") {
    std::vector<std::pair<std::string, int>> endpoints;
    for (const auto& b : backends) {
      if (b == "dead") {
        endpoints.push_back({"127.0.0.1", 1});  // refused
      } else {
        endpoints.push_back({"127.0.0.1", Backend(b).port()});
      }
    }
    state_->clusters[name] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(name, extra));
    state_->endpoints[name] =
        ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(name, endpoints));
  }

  // Istio's outbound shapes: listener 0.0.0.0_9080 → RDS "9080" → one virtual host whose routes
  // are `routes` (a JSON array).
  void Start(const std::string& routes) {
    state_->listeners["0.0.0.0_9080"] = ResourceFromJson<envoy::config::listener::v3::Listener>(R"({
      "name":"0.0.0.0_9080","address":{"socketAddress":{"address":"0.0.0.0","portValue":9080}},"bindToPort":false,
      "filterChains":[{"filters":[{"name":"envoy.filters.network.http_connection_manager","typedConfig":{
        "@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "statPrefix":"outbound_0.0.0.0_9080","rds":{"configSource":{"ads":{}},"routeConfigName":"9080"},
        "httpFilters":[{"name":"envoy.filters.http.router","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]})");
    const std::string route_config = R"({"name":"9080","virtualHosts":[{"name":"reviews","domains":["reviews","reviews:9080"],"routes":)" +
                                      routes + "}]}";
    auto route = FromJson<envoy::config::route::v3::RouteConfiguration>(route_config);
    // What the proxy's validator now accepts (mirrors, route idle timeouts): no NACK.
    EXPECT_EQ(ProxyResourceValidator().ValidateRoute(*route), "");
    for (const auto& [name, cluster] : state_->clusters) {
      EXPECT_EQ(ProxyResourceValidator().ValidateCluster(cluster.Decode()), "") << name;
    }
    state_->routes["9080"] = xds_client::MakeResource(*route);
    state_->generation = 1;
    std::vector<std::string> errors;
    auto snapshot = BuildSnapshot(state_, nullptr, &errors);
    ASSERT_TRUE(errors.empty()) << errors.front();
    WorkerOptions options;
    options.listen = {{"127.0.0.1", 0}};
    options.seed = 42;
    worker_ = std::make_unique<Worker>(options);
    std::vector<event::Endpoint> bound;
    std::string error;
    ASSERT_TRUE(worker_->Start(&bound, &error)) << error;
    port_ = bound.at(0).port;
    worker_->SetConfig(snapshot);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the post reaches the loop
  }

  const WorkerCounters& counters() const { return worker_->counters(); }

  std::shared_ptr<xds_client::XdsState> state_ = std::make_shared<xds_client::XdsState>();
  std::map<std::string, std::unique_ptr<ScriptedBackend>> backends_;
  std::unique_ptr<Worker> worker_;
  int port_ = 0;
};

TEST_F(ResilienceProxyTest, PendingOverflowAnswers503UoAndTheQueuedRequestIsServedLater) {
  AddCluster("cb", {"mute"}, R"("circuitBreakers":{"thresholds":[{"maxConnections":1,"maxPendingRequests":1,
    "maxRequests":4294967295,"maxRetries":4294967295,"trackRemaining":true}]})");
  Start(R"([{"match":{"prefix":"/short"},"route":{"cluster":"cb","timeout":"1s"}},
            {"match":{"prefix":"/"},"route":{"cluster":"cb","timeout":"10s"}}])");
  ScriptedBackend& mute = Backend("mute");
  mute.SetMute(true);
  Client a(port_), b(port_), c(port_);
  a.Get("/short/a");  // takes the cluster's only connection and hangs there
  ASSERT_TRUE(Eventually([&] { return mute.Count() == 1; }));
  b.Get("/b");  // no connection may open: waits in the pool's queue, the one pending slot
  ASSERT_TRUE(Eventually([&] { return counters().upstream_cx_overflow.load() == 1; }));
  const std::string overflow = c.Exchange("/c");  // no pending slot left
  EXPECT_THAT(overflow, StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(overflow, HasSubstr("x-cmesh-response-flags: UO\r\n"));
  EXPECT_THAT(overflow, HasSubstr("reset reason: overflow"));
  EXPECT_THAT(overflow, HasSubstr("x-envoy-overloaded: true\r\n"));
  EXPECT_EQ(counters().upstream_rq_pending_overflow.load(), 1u);
  EXPECT_EQ(mute.Count(), 1u);  // neither b nor c reached the upstream
  // a times out (its connection closes); the queued b gets a connection and its answer.
  mute.SetMute(false);
  EXPECT_THAT(a.ReadResponse(), StartsWith("HTTP/1.1 504 "));
  const std::string served = b.ReadResponse();
  EXPECT_THAT(served, StartsWith("HTTP/1.1 200 "));
  EXPECT_EQ(BackendOf(served), "mute");
}

TEST_F(ResilienceProxyTest, MaxRequestsOverflowAnswers503Uo) {
  AddCluster("rq", {"mute"}, R"("circuitBreakers":{"thresholds":[{"maxRequests":1}]})");
  Start(R"([{"match":{"prefix":"/"},"route":{"cluster":"rq","timeout":"1s"}}])");
  ScriptedBackend& mute = Backend("mute");
  mute.SetMute(true);
  Client a(port_), b(port_);
  a.Get("/a");
  ASSERT_TRUE(Eventually([&] { return mute.Count() == 1; }));
  const std::string overflow = b.Exchange("/b");
  EXPECT_THAT(overflow, StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(overflow, HasSubstr("x-cmesh-response-flags: UO\r\n"));
  EXPECT_EQ(counters().upstream_rq_pending_overflow.load(), 1u);
  EXPECT_EQ(mute.Count(), 1u);
  EXPECT_THAT(a.ReadResponse(), StartsWith("HTTP/1.1 504 "));
  // The slot was given back: the next request goes through.
  mute.SetMute(false);
  EXPECT_THAT(b.Exchange("/c"), StartsWith("HTTP/1.1 200 "));
}

TEST_F(ResilienceProxyTest, AHostAnswering503IsEjectedTrafficMovesAndItReturnsLater) {
  AddCluster("od", {"o1", "o2", "o3"}, R"("lbPolicy":"ROUND_ROBIN","outlierDetection":{"consecutive5xx":3,
    "enforcingConsecutive5xx":100,"interval":"0.1s","baseEjectionTime":"1s","maxEjectionPercent":100,"enforcingSuccessRate":0})");
  Start(R"([{"match":{"prefix":"/"},"route":{"cluster":"od"}}])");  // no retries: every 503 is seen
  Backend("o2").SetStatus(503);
  Client client(port_);
  int failures = 0;
  std::map<std::string, int> served;
  for (int i = 0; i < 30; ++i) {
    const std::string response = client.Exchange("/r" + std::to_string(i));
    if (response.rfind("HTTP/1.1 503 ", 0) == 0) ++failures;
    ++served[BackendOf(response)];
  }
  // Round robin gives o2 every third request: its third 503 in a row ejects it, and the other
  // 27 requests go to o1 and o3.
  EXPECT_EQ(failures, 3);
  EXPECT_EQ(Backend("o2").Count(), 3u);
  EXPECT_EQ(served["o1"] + served["o3"], 27);
  EXPECT_EQ(counters().outlier_detection_ejections_enforced.load(), 1u);
  // Healthy again: after base_ejection_time x 1 a sweep returns it and it gets traffic again.
  Backend("o2").SetStatus(200);
  EXPECT_TRUE(Eventually([&] {
    const std::string response = client.Exchange("/again");
    return BackendOf(response) == "o2" && response.rfind("HTTP/1.1 200 ", 0) == 0;
  }));
}

TEST_F(ResilienceProxyTest, AKilledHostIsRetriedAroundThenEjected) {
  AddCluster("killed", {"k1", "k2", "k3"}, R"("lbPolicy":"ROUND_ROBIN","outlierDetection":{"consecutive5xx":2,
    "interval":"10s","baseEjectionTime":"30s","maxEjectionPercent":100,"enforcingSuccessRate":0})");
  // Istio's default retry policy: connect failures, a 503, on another host.
  Start(R"([{"match":{"prefix":"/"},"route":{"cluster":"killed","retryPolicy":{
    "retryOn":"connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes","numRetries":2,
    "retriableStatusCodes":[503],"retryHostPredicate":[{"name":"envoy.retry_host_predicates.previous_hosts",
    "typedConfig":{"@type":"type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}}],
    "hostSelectionRetryMaxAttempts":"5"}}}])");
  Client client(port_);
  for (int i = 0; i < 6; ++i) ASSERT_THAT(client.Exchange("/warm"), StartsWith("HTTP/1.1 200 "));
  Backend("k2").Kill();
  const std::size_t k2_seen = Backend("k2").Count();
  for (int i = 0; i < 30; ++i) {
    const std::string response = client.Exchange("/r" + std::to_string(i));
    EXPECT_THAT(response, StartsWith("HTTP/1.1 200 ")) << i;
    EXPECT_NE(BackendOf(response), "k2");
  }
  EXPECT_EQ(Backend("k2").Count(), k2_seen);
  // Two connect failures in a row (folded in as 503s) ejected it; retries hid them.
  EXPECT_EQ(counters().outlier_detection_ejections_enforced.load(), 1u);
  EXPECT_GE(counters().upstream_connect_failures.load(), 2u);
}

TEST_F(ResilienceProxyTest, TheRetryBudgetStopsRetriesAndTheOriginalFailureIsReturned) {
  AddCluster("plain", {"f1"});  // no retry_budget: max_retries (Envoy's default 3) applies
  AddCluster("budget", {"f2"}, R"("circuitBreakers":{"thresholds":[{"retryBudget":{"budgetPercent":{"value":0},
    "minRetryConcurrency":0}}]})");
  const std::string retry = R"("retryPolicy":{"retryOn":"5xx","numRetries":3,"retryBackOff":{"baseInterval":"0.001s"}})";
  Start(R"([{"match":{"prefix":"/plain"},"route":{"cluster":"plain",)" + retry + R"(}},
            {"match":{"prefix":"/budget"},"route":{"cluster":"budget",)" + retry + R"(}}])");
  Backend("f1").SetStatus(503);
  Backend("f2").SetStatus(503);
  Client client(port_);
  // Without a budget, one request at a time: 1 + 3 retries reach the failing upstream.
  EXPECT_THAT(client.Exchange("/plain"), StartsWith("HTTP/1.1 503 "));
  EXPECT_EQ(Backend("f1").Count(), 4u);
  EXPECT_EQ(counters().upstream_rq_retry_overflow.load(), 0u);
  // A budget of 0 % with no floor allows no retry: each request reaches it once, its 503 is
  // the answer, and each refused retry is counted.
  for (int i = 0; i < 3; ++i) {
    const std::string response = client.Exchange("/budget");
    EXPECT_THAT(response, StartsWith("HTTP/1.1 503 "));
    EXPECT_EQ(BackendOf(response), "f2");  // the upstream's own answer, not a local one
  }
  EXPECT_EQ(Backend("f2").Count(), 3u);
  EXPECT_EQ(counters().upstream_rq_retry_overflow.load(), 3u);
}

TEST_F(ResilienceProxyTest, MirroringDeliversACopyWithTheShadowAuthority) {
  AddCluster("main", {"primary"});
  AddCluster("mirror", {"shadow"});
  Start(R"([{"match":{"prefix":"/"},"route":{"cluster":"main","requestMirrorPolicies":[{"cluster":"mirror",
    "runtimeFraction":{"defaultValue":{"numerator":100,"denominator":"HUNDRED"}}}]}}])");
  Client client(port_);
  client.Send("POST /orders?x=1 HTTP/1.1\r\nHost: reviews:9080\r\nContent-Length: 5\r\n\r\nhello");
  const std::string response = client.ReadResponse();
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 "));
  EXPECT_EQ(BackendOf(response), "primary");
  ASSERT_TRUE(Eventually([&] { return Backend("shadow").Count() == 1; }));
  const auto copy = Backend("shadow").Requests().at(0);
  EXPECT_EQ(copy.method, "POST");
  EXPECT_EQ(copy.path, "/orders?x=1");
  EXPECT_EQ(copy.host, "reviews-shadow:9080");
  EXPECT_EQ(copy.body, "hello");
  const auto original = Backend("primary").Requests().at(0);
  EXPECT_EQ(original.host, "reviews:9080");
  EXPECT_EQ(original.body, "hello");
  EXPECT_EQ(counters().upstream_rq_mirrored.load(), 1u);
}

TEST_F(ResilienceProxyTest, ADeadOrMuteMirrorDoesNotAffectTheAnswer) {
  AddCluster("main", {"primary"});
  AddCluster("dead-mirror", {"dead"});
  AddCluster("mute-mirror", {"mute"});
  Start(R"([{"match":{"prefix":"/dead"},"route":{"cluster":"main","requestMirrorPolicies":[{"cluster":"dead-mirror"}]}},
            {"match":{"prefix":"/mute"},"route":{"cluster":"main","timeout":"30s","requestMirrorPolicies":[{"cluster":"mute-mirror"}]}},
            {"match":{"prefix":"/missing"},"route":{"cluster":"main","requestMirrorPolicies":[{"cluster":"no-such-cluster"}]}}])");
  Backend("mute").SetMute(true);
  Client client(port_);
  for (const std::string path : {"/dead", "/mute", "/missing", "/dead", "/mute"}) {
    const std::string response = client.Exchange(path);
    EXPECT_THAT(response, StartsWith("HTTP/1.1 200 ")) << path;
    EXPECT_EQ(BackendOf(response), "primary") << path;
  }
  EXPECT_EQ(Backend("primary").Count(), 5u);
  EXPECT_TRUE(Eventually([&] { return Backend("mute").Count() == 2; }));  // the copies did go out
  EXPECT_EQ(counters().upstream_rq_mirrored.load(), 4u);                  // not for the unknown cluster
}

TEST_F(ResilienceProxyTest, RouteIdleTimeoutAnswers408SiBeforeTheResponse) {
  AddCluster("idle", {"mute"});
  Start(R"([{"match":{"prefix":"/"},"route":{"cluster":"idle","timeout":"30s","idleTimeout":"0.3s"}}])");
  Backend("mute").SetMute(true);
  Client client(port_);
  const std::string response = client.Exchange("/slow");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 408 "));
  EXPECT_THAT(response, HasSubstr("x-cmesh-response-flags: SI\r\n"));
  EXPECT_EQ(counters().stream_idle_timeouts.load(), 1u);
  EXPECT_EQ(counters().upstream_timeouts.load(), 0u);  // not the route timeout
}

TEST_F(ResilienceProxyTest, RouteIdleTimeoutCutsAStalledResponse) {
  AddCluster("idle", {"stuck"});
  Start(R"([{"match":{"prefix":"/"},"route":{"cluster":"idle","timeout":"30s","idleTimeout":"0.3s"}}])");
  Backend("stuck").SetPartial(true);
  Client client(port_);
  client.Get("/stuck");
  // The head and the first bytes came through; then nothing moves, and Envoy resets the stream:
  // on HTTP/1.1 the client sees the connection end before the announced 100 bytes.
  const std::string response = client.ReadResponse();
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(response, ::testing::EndsWith("\r\n\r\nstart"));
  EXPECT_EQ(counters().stream_idle_timeouts.load(), 1u);
}

}  // namespace
}  // namespace cmesh::proxy_core
