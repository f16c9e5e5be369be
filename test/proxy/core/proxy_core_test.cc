// A worker of cmesh-proxy end to end on loopback: the xDS resources Istio's sidecar gets for a
// reviews service (written here as Envoy JSON), real cmesh-demo-backend upstreams for v1/v2/v3,
// and requests sent as an explicit HTTP proxy (Host header or absolute URI).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "xds_json.h"
#include "cmesh/proxy_core/config_snapshot.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "cmesh/proxy_core/worker.h"
#include "loopback_client.h"
#include "pilot_process.h"

namespace cmesh::proxy_core {
namespace {

using xds_json::FromJson;
using xds_json::ResourceFromJson;

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::PilotProcess;
constexpr auto kDeadline = std::chrono::seconds(10);

// As the xDS client would hold it.
// A raw client connection to the proxy.
class Client {
 public:
  explicit Client(int port) : fd_(testing::ConnectTcp(port)), connected_(fd_ >= 0) {}
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& data) { ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL); }
  void HalfClose() { ::shutdown(fd_, SHUT_WR); }
  // Reads one complete response (Content-Length or chunked framing, or until close).
  std::string ReadResponse() {
    while (true) {
      auto end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::string head = buffer_.substr(0, end + 4);
        std::size_t total = std::string::npos;
        if (head.rfind("HTTP/1.1 100", 0) == 0) {
          total = end + 4;
        } else if (auto cl = Lower(head).find("content-length: "); cl != std::string::npos) {
          total = end + 4 + std::stoul(head.substr(cl + 16));
        } else if (Lower(head).find("transfer-encoding: chunked") != std::string::npos) {
          auto last = buffer_.find("\r\n0\r\n\r\n", end);
          if (last != std::string::npos) total = last + 7;
        } else if (head.find(" 204 ") != std::string::npos || head.find(" 304 ") != std::string::npos) {
          total = end + 4;
        }
        if (total != std::string::npos && buffer_.size() >= total) {
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
        return rest;  // closed (or timed out): whatever came
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  // True when the proxy closed the connection (EOF within the timeout).
  bool ClosedByPeer() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string Body(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }
std::string BackendOf(const std::string& response) {
  auto at = response.find("x-cmesh-backend: ");
  if (at == std::string::npos) return "";
  return response.substr(at + 17, response.find("\r\n", at) - at - 17);
}

class ProxyCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [version, ip] : std::map<std::string, std::string>{{"v1", "127.0.0.11"}, {"v2", "127.0.0.12"}, {"v3", "127.0.0.13"}}) {
      auto backend = std::make_unique<PilotProcess>(
          "cmesh-demo-backend", std::vector<std::string>{"--listen", ip + ":0", "--service", "reviews", "--version", version});
      ASSERT_TRUE(backend->started());
      auto port = backend->WaitForPort("backend", kDeadline);
      ASSERT_TRUE(port) << backend->Log();
      ports_[version] = *port;
      backends_.push_back(std::move(backend));
    }
    // A backend of 32 MiB answers, for a client that does not read.
    big_ = std::make_unique<PilotProcess>("cmesh-demo-backend", std::vector<std::string>{
        "--listen", "127.0.0.14:0", "--service", "big", "--version", "v1", "--body-bytes", std::to_string(kBigBody)});
    ASSERT_TRUE(big_->started());
    auto big_port = big_->WaitForPort("backend", kDeadline);
    ASSERT_TRUE(big_port) << big_->Log();
    big_port_ = *big_port;
    // A listener that accepts and never answers: for timeouts.
    silent_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(silent_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(silent_fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(silent_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    silent_port_ = ntohs(addr.sin_port);
  }
  void TearDown() override {
    if (worker_) worker_->Stop();
    ::close(silent_fd_);
  }

  std::string Cluster(const std::string& name) {
    return R"({"name":")" + name +
           R"(","type":"EDS","edsClusterConfig":{"edsConfig":{"ads":{}}},"connectTimeout":"1s","lbPolicy":")" +
           lb_policy_ + R"("})";
  }
  std::string Assignment(const std::string& name, const std::vector<std::pair<std::string, int>>& endpoints) {
    std::string lb;
    for (const auto& [ip, port] : endpoints) {
      if (!lb.empty()) lb += ",";
      lb += R"({"endpoint":{"address":{"socketAddress":{"address":")" + ip + R"(","portValue":)" + std::to_string(port) + "}}}}";
    }
    return R"({"clusterName":")" + name + R"(","endpoints":[{"locality":{},"lbEndpoints":[)" + lb + "]}]}";
  }

  // Istio's outbound shapes: listener 0.0.0.0_9080 → RDS "9080" → virtual host reviews.
  void Configure(const std::string& routes_json) {
    auto state = std::make_shared<xds_client::XdsState>();
    state->listeners["0.0.0.0_9080"] = ResourceFromJson<envoy::config::listener::v3::Listener>(R"({
      "name":"0.0.0.0_9080","address":{"socketAddress":{"address":"0.0.0.0","portValue":9080}},"bindToPort":false,
      "filterChains":[{"filters":[{"name":"envoy.filters.network.http_connection_manager","typedConfig":{
        "@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "statPrefix":"outbound_0.0.0.0_9080","rds":{"configSource":{"ads":{}},"routeConfigName":"9080"},
        "httpFilters":[{"name":"envoy.filters.http.router","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]})");
    state->routes["9080"] = ResourceFromJson<envoy::config::route::v3::RouteConfiguration>(routes_json);
    for (const auto& [subset, ip] : std::map<std::string, std::string>{{"v1", "127.0.0.11"}, {"v2", "127.0.0.12"}, {"v3", "127.0.0.13"}}) {
      const std::string name = "outbound|9080|" + subset + "|reviews.default.svc.cluster.local";
      state->clusters[name] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(name));
      state->endpoints[name] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(name, {{ip, ports_[subset]}}));
    }
    const std::string big = "outbound|9080|big|reviews.default.svc.cluster.local";
    state->clusters[big] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(big));
    state->endpoints[big] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(big, {{"127.0.0.14", big_port_}}));
    // A cluster whose endpoint refuses connections, and one that never answers.
    const std::string dead = "outbound|9080|dead|reviews.default.svc.cluster.local";
    state->clusters[dead] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(dead));
    state->endpoints[dead] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(dead, {{"127.0.0.1", 1}}));
    // Half dead: one endpoint refuses, the other is v1.
    const std::string half = "outbound|9080|half|reviews.default.svc.cluster.local";
    // RANDOM, so that a retry without previous_hosts would often pick the dead one again.
    state->clusters[half] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(
        R"({"name":")" + half + R"(","type":"EDS","edsClusterConfig":{"edsConfig":{"ads":{}}},"connectTimeout":"1s","lbPolicy":"RANDOM"})");
    state->endpoints[half] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(
        Assignment(half, {{"127.0.0.1", 1}, {"127.0.0.11", ports_["v1"]}}));
    const std::string silent = "outbound|9080|silent|reviews.default.svc.cluster.local";
    state->clusters[silent] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(silent));
    state->endpoints[silent] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(silent, {{"127.0.0.1", silent_port_}}));
    state->generation = ++generation_;
    std::vector<std::string> errors;
    auto snapshot = BuildSnapshot(state, last_.get(), &errors);
    EXPECT_TRUE(errors.empty()) << errors.front();
    last_ = snapshot;
    if (!worker_) {
      WorkerOptions options;
      options.listen = {{"127.0.0.1", 0}};
      options.seed = 42;
      options.on_request = [this](const RequestRecord& r) {
        std::lock_guard lock(records_mutex_);
        records_.push_back(r);
      };
      worker_ = std::make_unique<Worker>(options);
      std::vector<event::Endpoint> bound;
      std::string error;
      ASSERT_TRUE(worker_->Start(&bound, &error)) << error;
      proxy_port_ = bound.at(0).port;
    }
    worker_->SetConfig(snapshot);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the post reaches the loop
  }

  std::string Get(const std::string& path, const std::string& extra_headers = "") {
    Client client(proxy_port_);
    EXPECT_TRUE(client.connected());
    client.Send("GET " + path + " HTTP/1.1\r\nHost: reviews:9080\r\n" + extra_headers + "Connection: close\r\n\r\n");
    return client.ReadResponse();
  }

  std::vector<RequestRecord> Records() {
    std::lock_guard lock(records_mutex_);
    return records_;
  }

  std::vector<std::unique_ptr<PilotProcess>> backends_;
  std::map<std::string, int> ports_;
  int silent_fd_ = -1;
  int silent_port_ = 0;
  std::unique_ptr<PilotProcess> big_;
  int big_port_ = 0;
  static constexpr std::size_t kBigBody = 32u << 20;
  std::unique_ptr<Worker> worker_;
  int proxy_port_ = 0;
  ConfigSnapshotPtr last_;
  std::uint64_t generation_ = 0;
  std::string lb_policy_ = "ROUND_ROBIN";
  std::mutex records_mutex_;
  std::vector<RequestRecord> records_;
};

constexpr char kJasonToV2[] = R"({"name":"9080","virtualHosts":[{"name":"reviews.default.svc.cluster.local:9080",
  "domains":["reviews","reviews:9080","reviews.default.svc.cluster.local","reviews.default.svc.cluster.local:9080"],
  "routes":[
    {"name":"jason","match":{"prefix":"/","headers":[{"name":"end-user","stringMatch":{"exact":"jason"}}]},
     "route":{"cluster":"outbound|9080|v2|reviews.default.svc.cluster.local"}},
    {"name":"abort","match":{"prefix":"/abort"},
     "typedPerFilterConfig":{"envoy.filters.http.fault":{"@type":"type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
       "abort":{"httpStatus":418,"percentage":{"numerator":100,"denominator":"HUNDRED"}}}},
     "route":{"cluster":"outbound|9080|v1|reviews.default.svc.cluster.local"}},
    {"name":"old","match":{"prefix":"/old"},"redirect":{"pathRedirect":"/new","responseCode":"FOUND"}},
    {"name":"cors","match":{"prefix":"/cors"},
     "typedPerFilterConfig":{"envoy.filters.http.cors":{"@type":"type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
       "allowOriginStringMatch":[{"exact":"https://shop.example"}],"allowMethods":"GET,POST","allowHeaders":"x-token",
       "exposeHeaders":"x-trace","maxAge":"600","allowCredentials":true}},
     "route":{"cluster":"outbound|9080|v1|reviews.default.svc.cluster.local"}},
    {"name":"dead","match":{"prefix":"/dead"},
     "route":{"cluster":"outbound|9080|dead|reviews.default.svc.cluster.local","retryPolicy":{"retryOn":"connect-failure","numRetries":2}}},
    {"name":"big","match":{"prefix":"/big"},"route":{"cluster":"outbound|9080|big|reviews.default.svc.cluster.local"}},
    {"name":"half","match":{"prefix":"/half"},
     "route":{"cluster":"outbound|9080|half|reviews.default.svc.cluster.local","retryPolicy":{"retryOn":"connect-failure",
       "numRetries":1,"retryHostPredicate":[{"name":"envoy.retry_host_predicates.previous_hosts",
       "typedConfig":{"@type":"type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}}],
       "hostSelectionRetryMaxAttempts":"100"}}},
    {"name":"slow","match":{"prefix":"/slow"},"route":{"cluster":"outbound|9080|silent|reviews.default.svc.cluster.local","timeout":"0.3s"}},
    {"name":"split","match":{"prefix":"/"},"route":{"weightedClusters":{"clusters":[
      {"name":"outbound|9080|v1|reviews.default.svc.cluster.local","weight":80},
      {"name":"outbound|9080|v3|reviews.default.svc.cluster.local","weight":20}]}},
     "requestHeadersToAdd":[{"header":{"key":"x-added","value":"yes"}}],
     "responseHeadersToAdd":[{"header":{"key":"x-route","value":"split"}}]}]}]})";

TEST_F(ProxyCoreTest, HeaderRoutingSendsJasonToV2) {
  Configure(kJasonToV2);
  const std::string response = Get("/reviews/1", "end-user: jason\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_EQ(BackendOf(response), "reviews-v2");
  auto body = nlohmann::json::parse(Body(response));
  EXPECT_EQ(body["path"], "/reviews/1");
  EXPECT_EQ(body["headers"]["host"], "reviews:9080");
  EXPECT_EQ(body["headers"]["x-forwarded-proto"], "http");
  EXPECT_EQ(body["headers"]["x-request-id"].get<std::string>().size(), 36u);  // a generated UUID
}

// Draining (SIGTERM, /drain_listeners): a kept-alive connection with no request in flight is
// closed at once; one whose request is in flight gets its answer with "Connection: close".
TEST_F(ProxyCoreTest, DrainingClosesIdleConnectionsAndEndsBusyOnesAfterTheirAnswer) {
  Configure(kJasonToV2);
  Client idle(proxy_port_);
  idle.Send("GET /reviews/1 HTTP/1.1\r\nHost: reviews:9080\r\n\r\n");
  ASSERT_THAT(idle.ReadResponse(), StartsWith("HTTP/1.1 200 OK"));
  Client busy(proxy_port_);
  busy.Send("GET /slow HTTP/1.1\r\nHost: reviews:9080\r\n\r\n");  // 0.3 s route timeout: answered 504 UT
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  worker_->StopAccepting();
  EXPECT_TRUE(idle.ClosedByPeer());
  const std::string answer = busy.ReadResponse();
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 504 "));
  EXPECT_THAT(answer, HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(busy.ClosedByPeer());
}

TEST_F(ProxyCoreTest, WeightedSplitFollowsTheWeightsAndHeadersAreRewritten) {
  Configure(kJasonToV2);
  Client client(proxy_port_);
  ASSERT_TRUE(client.connected());
  std::map<std::string, int> seen;
  constexpr int kRequests = 400;
  for (int i = 0; i < kRequests; ++i) {
    client.Send("GET /reviews/" + std::to_string(i) + " HTTP/1.1\r\nHost: reviews:9080\r\n\r\n");  // keep-alive
    const std::string response = client.ReadResponse();
    ASSERT_THAT(response, StartsWith("HTTP/1.1 200 OK")) << i;
    ++seen[BackendOf(response)];
    if (i == 0) {
      EXPECT_THAT(response, HasSubstr("x-route: split\r\n"));
      EXPECT_EQ(nlohmann::json::parse(Body(response))["headers"]["x-added"], "yes");
    }
  }
  // 80/20 by weighted random draws: 5 standard deviations of Binomial(400, 0.8) is 40.
  EXPECT_NEAR(seen["reviews-v1"], 320, 40);
  EXPECT_EQ(seen["reviews-v1"] + seen["reviews-v3"], kRequests);
  EXPECT_EQ(seen.count("reviews-v2"), 0u);
}

TEST_F(ProxyCoreTest, AbsoluteFormRequestsAreRoutedByTheirUri) {
  Configure(kJasonToV2);
  Client client(proxy_port_);
  client.Send("GET http://reviews:9080/reviews/2 HTTP/1.1\r\nHost: reviews:9080\r\nend-user: jason\r\nConnection: close\r\n\r\n");
  const std::string response = client.ReadResponse();
  EXPECT_EQ(BackendOf(response), "reviews-v2");
  EXPECT_EQ(nlohmann::json::parse(Body(response))["path"], "/reviews/2");  // origin-form upstream
}

TEST_F(ProxyCoreTest, LocalAnswersCarryTheirResponseFlags) {
  Configure(kJasonToV2);
  const std::string abort = Get("/abort");
  EXPECT_THAT(abort, StartsWith("HTTP/1.1 418 "));
  EXPECT_THAT(abort, HasSubstr("x-cmesh-response-flags: FI\r\n"));
  const std::string redirect = Get("/old/x");
  EXPECT_THAT(redirect, StartsWith("HTTP/1.1 302 "));
  EXPECT_THAT(redirect, HasSubstr("location: http://reviews:9080/new"));
  // An unknown port has no route configuration.
  Client client(proxy_port_);
  client.Send("GET / HTTP/1.1\r\nHost: ratings:9999\r\nConnection: close\r\n\r\n");
  const std::string no_route = client.ReadResponse();
  EXPECT_THAT(no_route, StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(no_route, HasSubstr("x-cmesh-response-flags: NR\r\n"));
}

// Envoy's CORS filter semantics, from a VirtualService's corsPolicy.
TEST_F(ProxyCoreTest, CorsPreflightIsAnsweredAndAllowedOriginsGetTheirHeaders) {
  Configure(kJasonToV2);
  Client preflight(proxy_port_);
  preflight.Send("OPTIONS /cors HTTP/1.1\r\nHost: reviews:9080\r\nOrigin: https://shop.example\r\n"
                 "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
  const std::string answer = preflight.ReadResponse();
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 "));
  EXPECT_EQ(BackendOf(answer), "");  // answered by the proxy
  EXPECT_THAT(answer, HasSubstr("access-control-allow-origin: https://shop.example\r\n"));
  EXPECT_THAT(answer, HasSubstr("access-control-allow-methods: GET,POST\r\n"));
  EXPECT_THAT(answer, HasSubstr("access-control-allow-headers: x-token\r\n"));
  EXPECT_THAT(answer, HasSubstr("access-control-max-age: 600\r\n"));
  EXPECT_THAT(answer, HasSubstr("access-control-allow-credentials: true\r\n"));

  const std::string simple = Get("/cors", "Origin: https://shop.example\r\n");
  EXPECT_EQ(BackendOf(simple), "reviews-v1");
  EXPECT_THAT(simple, HasSubstr("access-control-allow-origin: https://shop.example\r\n"));
  EXPECT_THAT(simple, HasSubstr("access-control-expose-headers: x-trace\r\n"));

  // Another origin: no CORS headers, and its preflight goes upstream (Envoy's default).
  const std::string other = Get("/cors", "Origin: https://evil.example\r\n");
  EXPECT_EQ(other.find("access-control-"), std::string::npos);
  Client other_preflight(proxy_port_);
  other_preflight.Send("OPTIONS /cors HTTP/1.1\r\nHost: reviews:9080\r\nOrigin: https://evil.example\r\n"
                       "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(BackendOf(other_preflight.ReadResponse()), "reviews-v1");
}

TEST_F(ProxyCoreTest, ConnectFailuresAreRetriedThenAnswered503Uf) {
  Configure(kJasonToV2);
  const std::string response = Get("/dead");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(response, HasSubstr("x-cmesh-response-flags: UF\r\n"));
  auto records = Records();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().attempts, 3u);  // the first try and two retries
  EXPECT_EQ(records.back().flags, "UF");
}

// Istio's default retry policy: a retry avoids the endpoint that failed (previous_hosts), so
// with one dead endpoint of two and one retry, every request succeeds: with 100 re-picks allowed,
// a retry lands on the dead one again with probability 2^-101. (Without previous_hosts, a
// random pick retries on the dead one a quarter of the time: 30 successes in a row then happen
// with probability 0.75^30, about 2 in 10,000.)
TEST_F(ProxyCoreTest, RetriesAvoidTheEndpointsAlreadyTried) {
  Configure(kJasonToV2);
  for (int i = 0; i < 30; ++i) {
    const std::string response = Get("/half/" + std::to_string(i));
    ASSERT_THAT(response, StartsWith("HTTP/1.1 200 OK")) << i;
    EXPECT_EQ(BackendOf(response), "reviews-v1");
  }
}

TEST_F(ProxyCoreTest, RouteTimeoutAnswers504Ut) {
  Configure(kJasonToV2);
  const std::string response = Get("/slow");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 504 "));
  EXPECT_THAT(response, HasSubstr("x-cmesh-response-flags: UT\r\n"));
}

TEST_F(ProxyCoreTest, BodiesBothWaysPipeliningAndKeepAlive) {
  Configure(kJasonToV2);
  Client client(proxy_port_);
  // A chunked upload, a Content-Length upload and a GET, pipelined on one connection.
  client.Send("POST /a HTTP/1.1\r\nHost: reviews:9080\r\nend-user: jason\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n0\r\n\r\n"
              "PUT /b HTTP/1.1\r\nHost: reviews:9080\r\nend-user: jason\r\nContent-Length: 3\r\n\r\nabc"
              "GET /c HTTP/1.1\r\nHost: reviews:9080\r\nend-user: jason\r\n\r\n");
  const std::string a = client.ReadResponse();
  const std::string b = client.ReadResponse();
  const std::string c = client.ReadResponse();
  EXPECT_EQ(nlohmann::json::parse(Body(a))["path"], "/a");
  EXPECT_EQ(nlohmann::json::parse(Body(a))["headers"]["transfer-encoding"], "chunked");  // re-framed
  EXPECT_EQ(nlohmann::json::parse(Body(b))["headers"]["content-length"], "3");
  EXPECT_EQ(nlohmann::json::parse(Body(c))["path"], "/c");
  // Still open: one more.
  client.Send("GET /d HTTP/1.1\r\nHost: reviews:9080\r\nend-user: jason\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(nlohmann::json::parse(Body(client.ReadResponse()))["path"], "/d");
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ProxyCoreTest, SmugglingShapedRequestsAreRefusedAndTheConnectionClosed) {
  Configure(kJasonToV2);
  Client client(proxy_port_);
  client.Send("POST / HTTP/1.1\r\nHost: reviews:9080\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
              "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: reviews:9080\r\n\r\n");
  const std::string response = client.ReadResponse();
  EXPECT_THAT(response, StartsWith("HTTP/1.1 400 "));
  EXPECT_TRUE(client.ClosedByPeer());
  for (const auto& record : Records()) EXPECT_NE(record.path, "/smuggled");
}

// A cluster rebuilt by a config change (here its balancer) keeps the kept-alive connections of
// the endpoints it still has: the backend sees the next request on the same connection.
TEST_F(ProxyCoreTest, AClusterChangeKeepsTheConnectionsOfItsRemainingEndpoints) {
  Configure(kJasonToV2);
  const auto first = nlohmann::json::parse(Body(Get("/x", "end-user: jason\r\n")));
  const auto again = nlohmann::json::parse(Body(Get("/x", "end-user: jason\r\n")));
  ASSERT_EQ(again["connection"], first["connection"]);  // kept alive by the pool
  lb_policy_ = "RANDOM";
  Configure(kJasonToV2);
  const auto after = nlohmann::json::parse(Body(Get("/x", "end-user: jason\r\n")));
  EXPECT_EQ(after["version"], "v2");
  EXPECT_EQ(after["connection"], first["connection"]);
}

long RssKb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// The proxy reads no more of an upstream answer than its client takes: with a client that does
// not read, a 32 MiB answer stays mostly in the sockets, not in the proxy (it runs in this
// process), and all of it arrives once the client reads.
TEST_F(ProxyCoreTest, ASlowClientPacesTheUpstreamRead) {
  Configure(kJasonToV2);
  Client client(proxy_port_);
  const long before = RssKb();
  client.Send("GET /big HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the upstream has sent it all by now
  const long during = RssKb();
  EXPECT_LT(during - before, 16 * 1024) << "the proxy buffered " << (during - before) << " KB";
  const std::string response = client.ReadResponse();
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_EQ(Body(response).size(), kBigBody);
}

TEST_F(ProxyCoreTest, ANewConfigIsFollowedByTheNextRequest) {
  Configure(kJasonToV2);
  EXPECT_EQ(BackendOf(Get("/x", "end-user: jason\r\n")), "reviews-v2");
  Configure(R"({"name":"9080","virtualHosts":[{"name":"reviews","domains":["reviews:9080"],
    "routes":[{"match":{"prefix":"/"},"route":{"cluster":"outbound|9080|v3|reviews.default.svc.cluster.local"}}]}]})");
  EXPECT_EQ(BackendOf(Get("/x", "end-user: jason\r\n")), "reviews-v3");
}

}  // namespace
}  // namespace cmesh::proxy_core
