// A worker's inbound listener and its TCP proxying on loopback: connections that were not
// redirected keep the listener's own address as their original destination, so a chain that
// matches the listener's port serves them (the netns mesh test covers iptables' redirection).
// Upstreams are real cmesh-demo-backend processes and a TCP echo server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "xds_json.h"
#include "cmesh/proxy_core/config_snapshot.h"
#include "cmesh/proxy_core/worker.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
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

// Echoes every byte back, prefixed once per connection by its tag; closes after the client's FIN.
class EchoServer {
 public:
  explicit EchoServer(std::string tag) : tag_(std::move(tag)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++accepted_;
        std::thread([c, tag = tag_] {
          ::send(c, tag.data(), tag.size(), MSG_NOSIGNAL);
          char buffer[65536];
          for (;;) {
            const ssize_t n = ::recv(c, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            ::send(c, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
          }
          ::close(c);
        }).detach();
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  std::string tag_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Answers an upgrade request for WebSocket with 101 and then echoes bytes; any other request with
// 426 and a close. Records whether the Upgrade header arrived.
class UpgradeServer {
 public:
  UpgradeServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::thread([this, c] {
          std::string in;
          char buffer[4096];
          while (in.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(c, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            in.append(buffer, static_cast<std::size_t>(n));
          }
          std::string lower = in;
          for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          const bool upgrade = lower.find("\r\nupgrade: websocket\r\n") != std::string::npos &&
                               lower.find("\r\nconnection: upgrade\r\n") != std::string::npos;
          saw_upgrade_ = saw_upgrade_ || upgrade;
          if (!upgrade) {
            const std::string refuse = "HTTP/1.1 426 Upgrade Required\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
            ::send(c, refuse.data(), refuse.size(), MSG_NOSIGNAL);
            ::close(c);
            return;
          }
          // The 101 and a first frame of our own in one write, then whatever followed the head.
          std::string reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nserver-hello;";
          reply += in.substr(in.find("\r\n\r\n") + 4);
          ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
          for (;;) {
            const ssize_t n = ::recv(c, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            ::send(c, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
          }
          ::close(c);
        }).detach();
      }
    });
  }
  ~UpgradeServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  bool saw_upgrade() const { return saw_upgrade_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> saw_upgrade_{false};
  std::thread thread_;
};

std::string StaticCluster(const std::string& name, const std::string& ip, int port, const std::string& extra = "") {
  return R"({"name":")" + name + R"(","type":"STATIC","connectTimeout":"1s",)" + extra +
         R"("loadAssignment":{"clusterName":")" + name + R"(","endpoints":[{"lbEndpoints":[{"endpoint":{"address":{"socketAddress":{"address":")" +
         ip + R"(","portValue":)" + std::to_string(port) + "}}}}]}]}}";
}

std::string TcpFilter(const std::string& body) {
  return R"({"name":"envoy.filters.network.tcp_proxy","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy","statPrefix":"t",)" +
         body + "}}";
}

std::string InlineHcm(const std::string& cluster, bool websocket = false) {
  return R"({"name":"envoy.filters.network.http_connection_manager","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    "statPrefix":"inbound",)" + std::string(websocket ? R"("upgradeConfigs":[{"upgradeType":"websocket"}],)" : "") +
         R"("routeConfig":{"name":")" + cluster + R"(","virtualHosts":[{"name":"inbound","domains":["*"],
      "routes":[{"name":"default","match":{"prefix":"/"},"route":{"cluster":")" + cluster + R"(","timeout":"0s"}}]}]},
    "httpFilters":[{"name":"envoy.filters.http.router","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}})";
}

class InboundTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string version : {"v1", "v2"}) {
      auto backend = std::make_unique<PilotProcess>(
          "cmesh-demo-backend", std::vector<std::string>{"--listen", "127.0.0.1:0", "--service", "reviews", "--version", version});
      ASSERT_TRUE(backend->started());
      auto port = backend->WaitForPort("backend", kDeadline);
      ASSERT_TRUE(port) << backend->Log();
      backend_ports_[version] = *port;
      backends_.push_back(std::move(backend));
    }
    WorkerOptions options;
    options.listen = {{"127.0.0.1", 0}};
    // Four inbound listeners: the chains below match each by its port.
    options.inbound_listen = {{"127.0.0.1", 0}, {"127.0.0.1", 0}, {"127.0.0.1", 0}, {"127.0.0.1", 0}};
    options.seed = 7;
    options.on_request = [this](const RequestRecord& r) {
      std::lock_guard lock(mutex_);
      requests_.push_back(r);
    };
    options.on_tcp = [this](const TcpRecord& r, bool closed) {
      std::lock_guard lock(mutex_);
      if (closed) tcp_closed_.push_back(r);
      else ++tcp_opened_;
    };
    worker_ = std::make_unique<Worker>(options);
    std::vector<event::Endpoint> bound;
    std::string error;
    ASSERT_TRUE(worker_->Start(&bound, &error)) << error;
    http_port_ = bound.at(1).port;
    tcp_port_ = bound.at(2).port;
    weighted_port_ = bound.at(3).port;
    sniff_port_ = bound.at(4).port;
  }
  void TearDown() override {
    if (worker_) worker_->Stop();
  }

  void Configure(const std::string& inbound_json, const std::map<std::string, std::string>& clusters) {
    auto state = std::make_shared<xds_client::XdsState>();
    state->listeners["virtualInbound"] = ResourceFromJson<envoy::config::listener::v3::Listener>(inbound_json);
    for (const auto& [name, json] : clusters) state->clusters[name] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(json);
    state->generation = 1;
    std::vector<std::string> errors;
    auto snapshot = BuildSnapshot(state, nullptr, &errors);
    ASSERT_TRUE(errors.empty()) << errors.front();
    worker_->SetConfig(snapshot);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // Istio's virtualInbound shape over the four listeners' ports.
  void ConfigureInbound(int echo_port, int echo2_port) {
    const std::string json = R"({"name":"virtualInbound","address":{"socketAddress":{"address":"0.0.0.0","portValue":15006}},
      "trafficDirection":"INBOUND","listenerFiltersTimeout":"0.3s","continueOnListenerFiltersTimeout":true,
      "listenerFilters":[{"name":"envoy.filters.listener.original_dst"},
        {"name":"envoy.filters.listener.http_inspector","typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector"}}],
      "filterChains":[
        {"name":"http","filterChainMatch":{"destinationPort":)" + std::to_string(http_port_) + R"(},"filters":[)" + InlineHcm("inbound|9080||") + R"(]},
        {"name":"tcp","filterChainMatch":{"destinationPort":)" + std::to_string(tcp_port_) + R"(},"filters":[)" +
                             TcpFilter(R"("cluster":"echo","idleTimeout":"0.5s")") + R"(]},
        {"name":"weighted","filterChainMatch":{"destinationPort":)" + std::to_string(weighted_port_) + R"(},"filters":[)" +
                             TcpFilter(R"("weightedClusters":{"clusters":[{"name":"echo","weight":75},{"name":"echo2","weight":25}]})") + R"(]},
        {"name":"sniff-http","filterChainMatch":{"destinationPort":)" + std::to_string(sniff_port_) + R"(,"applicationProtocols":["http/1.1","h2c"]},
         "filters":[)" + InlineHcm("inbound|9080||") + R"(]},
        {"name":"sniff-tcp","filterChainMatch":{"destinationPort":)" + std::to_string(sniff_port_) + R"(},"filters":[)" +
                             TcpFilter(R"("cluster":"echo")") + R"(]}],
      "defaultFilterChain":{"name":"InboundPassthroughFilterChain","filters":[)" + TcpFilter(R"("cluster":"InboundPassthroughCluster")") + R"(]}})";
    Configure(json, {{"inbound|9080||", StaticCluster("inbound|9080||", "127.0.0.1", backend_ports_["v1"],
                                                      R"("metadata":{"filterMetadata":{"istio":{"services":[
                                                        {"host":"reviews.default.svc.cluster.local","name":"reviews",
                                                         "namespace":"default"}]}}},)")},
                     {"echo", StaticCluster("echo", "127.0.0.1", echo_port)},
                     {"echo2", StaticCluster("echo2", "127.0.0.1", echo2_port)},
                     {"InboundPassthroughCluster",
                      R"({"name":"InboundPassthroughCluster","type":"ORIGINAL_DST","lbPolicy":"CLUSTER_PROVIDED","connectTimeout":"1s",
                          "upstreamBindConfig":{"sourceAddress":{"address":"127.0.0.6","portValue":0}}})"}});
  }

  std::vector<RequestRecord> Requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<TcpRecord> TcpClosed() {
    std::lock_guard lock(mutex_);
    return tcp_closed_;
  }

  std::vector<std::unique_ptr<PilotProcess>> backends_;
  std::map<std::string, int> backend_ports_;
  std::unique_ptr<Worker> worker_;
  int http_port_ = 0, tcp_port_ = 0, weighted_port_ = 0, sniff_port_ = 0;
  std::mutex mutex_;
  std::vector<RequestRecord> requests_;
  std::vector<TcpRecord> tcp_closed_;
  int tcp_opened_ = 0;
};

TEST_F(InboundTcpTest, AnInboundHttpChainRoutesWithItsInlineRoutesAndAddsTheClientToXForwardedFor) {
  EchoServer echo("e1:"), echo2("e2:");
  ConfigureInbound(echo.port(), echo2.port());
  const std::string response = testing::ExchangeTcp(
      http_port_, "GET /reviews/1 HTTP/1.1\r\nHost: reviews:9080\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n");
  ASSERT_THAT(response, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(response, HasSubstr("x-cmesh-backend: reviews-v1"));
  auto body = nlohmann::json::parse(response.substr(response.find("\r\n\r\n") + 4));
  // The caller's own list, then the address the client connected from.
  EXPECT_EQ(body["headers"]["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
  auto records = Requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].inbound);
  EXPECT_EQ(records[0].cluster, "inbound|9080||");
  // From the inbound cluster's Istio metadata, for the destination_service label.
  EXPECT_EQ(records[0].destination_service, "reviews.default.svc.cluster.local");
  EXPECT_EQ(records[0].status, 200);
}

TEST_F(InboundTcpTest, ATcpChainCopiesBytesBothWaysAndPassesTheClientsFinOn) {
  EchoServer echo("e1:"), echo2("e2:");
  ConfigureInbound(echo.port(), echo2.port());
  // Not HTTP, and nothing added: exactly the echo of what was sent, then the close.
  const std::string payload = std::string(200000, 'x') + "\x01\x02 end";
  const std::string reply = testing::ExchangeTcp(tcp_port_, payload, /*half_close=*/true);
  EXPECT_EQ(reply.size(), payload.size() + 3);
  EXPECT_TRUE(reply == "e1:" + payload) << "the echo differs from what was sent";
  // The pair closes after both FINs; the record follows on the worker's thread.
  for (int i = 0; i < 100 && TcpClosed().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto closed = TcpClosed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].cluster, "echo");
  EXPECT_TRUE(closed[0].connected);
  EXPECT_TRUE(closed[0].inbound);
  EXPECT_EQ(closed[0].bytes_received, payload.size());
  EXPECT_EQ(closed[0].bytes_sent, payload.size() + 3);
  EXPECT_EQ(closed[0].flags, "-");
}

TEST_F(InboundTcpTest, AnIdleTcpConnectionIsClosedAfterTheChainsIdleTimeout) {
  EchoServer echo("e1:"), echo2("e2:");
  ConfigureInbound(echo.port(), echo2.port());
  const int fd = testing::ConnectTcp(tcp_port_, "127.0.0.1", std::chrono::seconds(5));
  ASSERT_GE(fd, 0);
  char buffer[16];
  ASSERT_EQ(::recv(fd, buffer, 3, MSG_WAITALL), 3);  // the tag: connected
  // Nothing more is sent: the 0.5 s idle timeout closes the pair (EOF), well before the 5 s
  // receive timeout would return an error instead.
  EXPECT_EQ(::recv(fd, buffer, sizeof buffer, 0), 0);
  ::close(fd);
}

TEST_F(InboundTcpTest, WeightedTcpClustersAreDrawnByWeight) {
  EchoServer echo("e1:"), echo2("e2:");
  ConfigureInbound(echo.port(), echo2.port());
  std::map<std::string, int> seen;
  constexpr int kConnections = 200;
  for (int i = 0; i < kConnections; ++i) {
    ++seen[testing::ExchangeTcp(weighted_port_, "", /*half_close=*/true)];
  }
  // 75/25: Binomial(200, 0.75) has a standard deviation of 6.1; 5 of them is about 31.
  EXPECT_NEAR(seen["e1:"], 150, 31);
  EXPECT_EQ(seen["e1:"] + seen["e2:"], kConnections);
}

TEST_F(InboundTcpTest, ASniffedPortSendsHttpToTheHttpChainAndTheRestToTheTcpChain) {
  EchoServer echo("e1:"), echo2("e2:");
  ConfigureInbound(echo.port(), echo2.port());
  const std::string http = testing::ExchangeTcp(sniff_port_, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(http, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(http, HasSubstr("x-cmesh-backend: reviews-v1"));
  const std::string redis = "*1\r\n$4\r\nPING\r\n";
  EXPECT_EQ(testing::ExchangeTcp(sniff_port_, redis, /*half_close=*/true), "e1:" + redis);
}

TEST_F(InboundTcpTest, AServerFirstProtocolGoesToTheTcpChainWhenSniffingTimesOut) {
  EchoServer echo("e1:"), echo2("e2:");
  ConfigureInbound(echo.port(), echo2.port());
  // The client waits for the server to speak first (as MySQL's clients do): after the
  // listener's 0.3 s, continue_on_listener_filters_timeout sends it to the non-HTTP chain.
  const int fd = testing::ConnectTcp(sniff_port_, "127.0.0.1", std::chrono::seconds(5));
  ASSERT_GE(fd, 0);
  char buffer[3];
  ASSERT_EQ(::recv(fd, buffer, 3, MSG_WAITALL), 3);
  EXPECT_EQ(std::string(buffer, 3), "e1:");
  ::close(fd);
}

TEST_F(InboundTcpTest, PassthroughOfAConnectionThatWasNotRedirectedIsRefusedNotLooped) {
  EchoServer echo("e1:"), echo2("e2:");
  // Without the port chains, everything takes the default chain: ORIGINAL_DST passthrough. The
  // original destination of this connection is the listener itself (no iptables here), which
  // must not be dialled (it would loop).
  Configure(R"({"name":"virtualInbound","address":{"socketAddress":{"address":"0.0.0.0","portValue":15006}},
      "trafficDirection":"INBOUND","defaultFilterChain":{"name":"InboundPassthroughFilterChain","filters":[)" +
                TcpFilter(R"("cluster":"InboundPassthroughCluster")") + "]}}",
            {{"InboundPassthroughCluster",
              R"({"name":"InboundPassthroughCluster","type":"ORIGINAL_DST","lbPolicy":"CLUSTER_PROVIDED","connectTimeout":"1s"})"}});
  EXPECT_EQ(testing::ExchangeTcp(http_port_, "GET / HTTP/1.1\r\n\r\n", true), "");
  for (int i = 0; i < 100 && TcpClosed().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto closed = TcpClosed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].flags, "UH");
  EXPECT_FALSE(closed[0].connected);
}

// WebSocket: the chain's upgrade_configs allow it; the request goes up with its Upgrade header,
// the 101 comes back, then bytes flow both ways unchanged (the client's early frame included).
TEST_F(InboundTcpTest, AWebSocketUpgradeBecomesATunnelWhenTheChainAllowsIt) {
  UpgradeServer server;
  auto configure = [&](bool websocket) {
    Configure(R"({"name":"virtualInbound","address":{"socketAddress":{"address":"0.0.0.0","portValue":15006}},
      "trafficDirection":"INBOUND","filterChains":[{"name":"ws","filterChainMatch":{"destinationPort":)" +
                  std::to_string(http_port_) + R"(},"filters":[)" + InlineHcm("inbound|8080||", websocket) + "]}]}",
              {{"inbound|8080||", StaticCluster("inbound|8080||", "127.0.0.1", server.port())}});
  };
  configure(true);
  const int fd = testing::ConnectTcp(http_port_, "127.0.0.1", std::chrono::seconds(5));
  ASSERT_GE(fd, 0);
  const std::string request = "GET /chat HTTP/1.1\r\nHost: chat:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nearly;";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string got;
  char buffer[4096];
  auto read_until = [&](const std::string& what) {
    while (got.find(what) == std::string::npos) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      got.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  };
  ASSERT_TRUE(read_until("early;")) << got;
  EXPECT_THAT(got, StartsWith("HTTP/1.1 101 "));
  EXPECT_THAT(got, HasSubstr("\r\nconnection: upgrade\r\n"));
  EXPECT_THAT(got, HasSubstr("\r\nupgrade: websocket\r\n"));
  EXPECT_THAT(got, HasSubstr("\r\n\r\nserver-hello;early;"));
  // Frames after the switch, in both directions, untouched by HTTP framing.
  const std::string frame("\x81\x05hello\r\n\r\n", 11);
  ASSERT_EQ(::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL), static_cast<ssize_t>(frame.size()));
  got.clear();
  ASSERT_TRUE(read_until(frame));
  EXPECT_EQ(got, frame);
  ::close(fd);
  auto records = Requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status, 101);
  EXPECT_EQ(records[0].path, "/chat");

  // Without upgrade_configs the Upgrade header is hop-by-hop: the upstream sees a plain request.
  UpgradeServer plain;
  Configure(R"({"name":"virtualInbound","address":{"socketAddress":{"address":"0.0.0.0","portValue":15006}},
      "trafficDirection":"INBOUND","filterChains":[{"name":"ws","filterChainMatch":{"destinationPort":)" +
                std::to_string(http_port_) + R"(},"filters":[)" + InlineHcm("inbound|8080||", false) + "]}]}",
            {{"inbound|8080||", StaticCluster("inbound|8080||", "127.0.0.1", plain.port())}});
  const std::string refused = testing::ExchangeTcp(http_port_, request);
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 426 "));
  EXPECT_FALSE(plain.saw_upgrade());
}

TEST_F(InboundTcpTest, AnUnknownTcpClusterClosesTheConnectionWithNc) {
  Configure(R"({"name":"virtualInbound","address":{"socketAddress":{"address":"0.0.0.0","portValue":15006}},
      "trafficDirection":"INBOUND","defaultFilterChain":{"filters":[)" + TcpFilter(R"("cluster":"missing")") + "]}}", {});
  EXPECT_EQ(testing::ExchangeTcp(http_port_, "x", true), "");
  for (int i = 0; i < 100 && TcpClosed().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto closed = TcpClosed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].flags, "NC");
}

}  // namespace
}  // namespace cmesh::proxy_core
