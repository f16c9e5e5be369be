// The HTTP/2 connection manager end to end on loopback: a real Worker with a hand-built xDS
// state (Istio's shapes: listener 0.0.0.0_PORT → RDS "PORT"), a real gRPC server (grpc++'s
// generic callback API, so no generated code) as an HTTP/2 upstream, grpc++ clients speaking
// h2c to the proxy as an explicit proxy (the channel's authority picks the route), and nghttp
// as an h2c client in front of an HTTP/1.1 upstream (cmesh-demo-backend).
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <cstdio>
#include <future>
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
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "http2_upstream.h"
#include "pilot_process.h"
#include "temp_dir.h"

namespace cmesh::proxy_core {
namespace {

using xds_json::FromJson;
using xds_json::ResourceFromJson;

using ::testing::HasSubstr;
constexpr auto kDeadline = std::chrono::seconds(10);

// ---- a gRPC echo server: any method, raw bytes ---------------------------------------------

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return {};
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer ToBuffer(const std::string& text) {
  grpc::Slice slice(text);
  return grpc::ByteBuffer(&slice, 1);
}

// /test.Echo/Fail ends with NOT_FOUND "nope", /test.Echo/RetryUnavailable with UNAVAILABLE;
// /test.Echo/Hang never answers (until cancelled);
// any other method echoes each message as "echo:MESSAGE" and ends with OK and a trailer.
std::atomic<int> hang_calls{0};  // /test.Echo/Hang* calls the server has seen

class EchoReactor : public grpc::ServerGenericBidiReactor {
 public:
  explicit EchoReactor(grpc::GenericCallbackServerContext* context) : context_(context) {
    if (context_->method().rfind("/test.Echo/Hang", 0) == 0) {
      ++hang_calls;
      return;
    }
    StartRead(&in_);
  }
  void OnReadDone(bool ok) override {
    if (context_->method() == "/test.Echo/Fail") return Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "nope"));
    if (context_->method() == "/test.Echo/RetryUnavailable") {
      return Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "try again"));
    }
    if (!ok) {
      context_->AddTrailingMetadata("x-echo-trailer", "t1");
      return Finish(grpc::Status::OK);
    }
    out_ = ToBuffer("echo:" + ToString(in_));
    StartWrite(&out_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::CANCELLED);
    StartRead(&in_);
  }
  void OnCancel() override {
    if (context_->method().rfind("/test.Echo/Hang", 0) == 0) Finish(grpc::Status::CANCELLED);
  }
  void OnDone() override { delete this; }

 private:
  grpc::GenericCallbackServerContext* context_;
  grpc::ByteBuffer in_, out_;
};

class EchoService : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    return new EchoReactor(context);
  }
};

// ---- gRPC client helpers -------------------------------------------------------------------

struct CallResult {
  grpc::Status status;
  std::string response;
  std::multimap<std::string, std::string> trailers;
};

std::shared_ptr<grpc::Channel> ChannelTo(int proxy_port, const std::string& authority) {
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, authority);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(proxy_port), grpc::InsecureChannelCredentials(), args);
}

CallResult Unary(const std::shared_ptr<grpc::Channel>& channel, const std::string& method, const std::string& message) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kDeadline);
  grpc::ByteBuffer request = ToBuffer(message), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  CallResult result;
  result.status = done.get_future().get();
  result.response = ToString(response);
  for (const auto& [k, v] : context.GetServerTrailingMetadata()) {
    result.trailers.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  }
  return result;
}

// A bidirectional stream in lock step: message i is sent only after reply i-1 arrived, so it
// only completes if the proxy passes each message on as it comes (both ways).
class LockStepBidi : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  LockStepBidi(grpc::GenericStub& stub, std::vector<std::string> messages) : messages_(std::move(messages)) {
    context_.set_deadline(std::chrono::system_clock::now() + kDeadline);
    stub.PrepareBidiStreamingCall(&context_, "/test.Echo/Chat", grpc::StubOptions(), this);
    Next();
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (ok) StartRead(&in_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    replies_.push_back(ToString(in_));
    Next();
  }
  void OnDone(const grpc::Status& status) override { done_.set_value(status); }
  grpc::Status Wait() { return done_.get_future().get(); }
  const std::vector<std::string>& replies() const { return replies_; }

 private:
  void Next() {
    if (sent_ < messages_.size()) {
      out_ = ToBuffer(messages_[sent_++]);
      StartWrite(&out_);
    } else {
      StartWritesDone();
    }
  }
  grpc::ClientContext context_;
  std::vector<std::string> messages_;
  std::size_t sent_ = 0;
  grpc::ByteBuffer in_, out_;
  std::vector<std::string> replies_;
  std::promise<grpc::Status> done_;
};

std::string Listener(int port) {
  const std::string p = std::to_string(port);
  return R"({"name":"0.0.0.0_)" + p + R"(","address":{"socketAddress":{"address":"0.0.0.0","portValue":)" + p +
         R"(}},"bindToPort":false,"filterChains":[{"filters":[{"name":"envoy.filters.network.http_connection_manager",
      "typedConfig":{"@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "statPrefix":"outbound_0.0.0.0_)" + p + R"(","rds":{"configSource":{"ads":{}},"routeConfigName":")" + p +
         R"("},"httpFilters":[{"name":"envoy.filters.http.router","typedConfig":{
          "@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]})";
}

// An EDS cluster; `http2`: Istio's HttpProtocolOptions for a grpc/http2 port.
std::string Cluster(const std::string& name, bool http2) {
  std::string json = R"({"name":")" + name + R"(","type":"EDS","edsClusterConfig":{"edsConfig":{"ads":{}}},"connectTimeout":"1s")";
  if (http2) {
    json += R"(,"typedExtensionProtocolOptions":{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions":{
      "@type":"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
      "explicitHttpConfig":{"http2ProtocolOptions":{}}}})";
  }
  return json + "}";
}

std::string Assignment(const std::string& name, const std::string& ip, int port) {
  return R"({"clusterName":")" + name + R"(","endpoints":[{"locality":{},"lbEndpoints":[{"endpoint":{"address":{"socketAddress":{"address":")" +
         ip + R"(","portValue":)" + std::to_string(port) + "}}}}]}]}";
}

constexpr char kEcho[] = "outbound|9090||echo.default.svc.cluster.local";
constexpr char kDead[] = "outbound|9090|dead|echo.default.svc.cluster.local";
constexpr char kOne[] = "outbound|9090|one|echo.default.svc.cluster.local";  // max_requests 1
// use_downstream_protocol_config: Istio's clusters for ports of unknown protocol.
constexpr char kFollow[] = "outbound|9090|follow|echo.default.svc.cluster.local";
constexpr char kHalf[] = "outbound|9090|half|echo.default.svc.cluster.local";
constexpr char kReviews[] = "outbound|9080||reviews.default.svc.cluster.local";

const std::string kEchoRoutes = std::string(R"({"name":"9090","virtualHosts":[{"name":"echo:9090","domains":["echo","echo:9090"],
  "routes":[
    {"name":"abort","match":{"prefix":"/test.Echo/Abort"},
     "typedPerFilterConfig":{"envoy.filters.http.fault":{"@type":"type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
       "abort":{"grpcStatus":7,"percentage":{"numerator":100,"denominator":"HUNDRED"}}}},
     "route":{"cluster":")") + kEcho + R"("}},
    {"name":"http-abort","match":{"prefix":"/test.Echo/HttpAbort"},
     "typedPerFilterConfig":{"envoy.filters.http.fault":{"@type":"type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
       "abort":{"httpStatus":503,"percentage":{"numerator":100,"denominator":"HUNDRED"}}}},
     "route":{"cluster":")" + kEcho + R"("}},
    {"name":"dead","match":{"prefix":"/test.Echo/Dead"},"route":{"cluster":")" + kDead + R"("}},
    {"name":"retry-unavailable","match":{"prefix":"/test.Echo/RetryUnavailable"},
     "route":{"cluster":")" + kEcho + R"(","retryPolicy":{"retryOn":"unavailable","numRetries":2}}},
    {"name":"half","match":{"prefix":"/test.Echo/Half"},
     "route":{"cluster":")" + kHalf + R"(","retryPolicy":{"retryOn":"connect-failure","numRetries":1,
       "retryHostPredicate":[{"name":"envoy.retry_host_predicates.previous_hosts",
         "typedConfig":{"@type":"type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}}],
       "hostSelectionRetryMaxAttempts":"100"}}},
    {"name":"hang-try","match":{"prefix":"/test.Echo/HangTry"},
     "route":{"cluster":")" + kEcho + R"(","timeout":"5s","retryPolicy":{"retryOn":"5xx","numRetries":1,"perTryTimeout":"0.2s"}}},
    {"name":"hang-one","match":{"prefix":"/test.Echo/HangOne"},"route":{"cluster":")" + kOne + R"(","timeout":"5s"}},
    {"name":"follow","match":{"prefix":"/test.Echo/Follow"},"route":{"cluster":")" + kFollow + R"("}},
    {"name":"one","match":{"prefix":"/test.Echo/One"},"route":{"cluster":")" + kOne + R"("}},
    {"name":"hang","match":{"prefix":"/test.Echo/Hang"},"route":{"cluster":")" + kEcho + R"(","timeout":"0.3s"}},
    {"name":"echo","match":{"prefix":"/"},"route":{"cluster":")" + kEcho + R"("},
     "responseHeadersToAdd":[{"header":{"key":"x-route","value":"echo"}}]}]}]})";

const std::string kReviewsRoutes = std::string(R"({"name":"9080","virtualHosts":[{"name":"reviews:9080","domains":["reviews","reviews:9080"],
  "routes":[{"name":"reviews","match":{"prefix":"/"},"route":{"cluster":")") + kReviews + R"("},
    "requestHeadersToAdd":[{"header":{"key":"x-added","value":"yes"}}]}]}]})";

class Http2ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr);
    ASSERT_GT(grpc_port_, 0);
    backend_ = std::make_unique<testing::PilotProcess>(
        "cmesh-demo-backend", std::vector<std::string>{"--listen", "127.0.0.21:0", "--service", "reviews", "--version", "v1"});
    ASSERT_TRUE(backend_->started());
    auto port = backend_->WaitForPort("backend", kDeadline);
    ASSERT_TRUE(port) << backend_->Log();
    backend_port_ = *port;

    auto state = std::make_shared<xds_client::XdsState>();
    state->listeners["0.0.0.0_9090"] = ResourceFromJson<envoy::config::listener::v3::Listener>(Listener(9090));
    state->listeners["0.0.0.0_9080"] = ResourceFromJson<envoy::config::listener::v3::Listener>(Listener(9080));
    state->routes["9090"] = ResourceFromJson<envoy::config::route::v3::RouteConfiguration>(kEchoRoutes);
    state->routes["9080"] = ResourceFromJson<envoy::config::route::v3::RouteConfiguration>(kReviewsRoutes);
    state->clusters[kEcho] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(kEcho, true));
    state->endpoints[kEcho] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(kEcho, "127.0.0.1", grpc_port_));
    state->clusters[kDead] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(kDead, true));
    state->endpoints[kDead] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(kDead, "127.0.0.1", 1));
    state->clusters[kOne] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(
        R"({"name":")" + std::string(kOne) + R"(","type":"EDS","edsClusterConfig":{"edsConfig":{"ads":{}}},"connectTimeout":"1s",
          "circuitBreakers":{"thresholds":[{"maxRequests":1}]},
          "typedExtensionProtocolOptions":{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions":{
            "@type":"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicitHttpConfig":{"http2ProtocolOptions":{}}}}})");
    state->endpoints[kOne] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(kOne, "127.0.0.1", grpc_port_));
    state->clusters[kFollow] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(
        R"({"name":")" + std::string(kFollow) + R"(","type":"EDS","edsClusterConfig":{"edsConfig":{"ads":{}}},"connectTimeout":"1s",
          "typedExtensionProtocolOptions":{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions":{
            "@type":"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "useDownstreamProtocolConfig":{"httpProtocolOptions":{},"http2ProtocolOptions":{}}}}})");
    state->endpoints[kFollow] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(kFollow, "127.0.0.1", grpc_port_));
    // Half dead: one endpoint refuses connections, the other is the gRPC server.
    state->clusters[kHalf] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(kHalf, true));
    state->endpoints[kHalf] = ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(
        R"({"clusterName":")" + std::string(kHalf) + R"(","endpoints":[{"locality":{},"lbEndpoints":[
          {"endpoint":{"address":{"socketAddress":{"address":"127.0.0.1","portValue":1}}}},
          {"endpoint":{"address":{"socketAddress":{"address":"127.0.0.1","portValue":)" + std::to_string(grpc_port_) + "}}}}]}]}");
    state->clusters[kReviews] = ResourceFromJson<envoy::config::cluster::v3::Cluster>(Cluster(kReviews, false));
    state->endpoints[kReviews] =
        ResourceFromJson<envoy::config::endpoint::v3::ClusterLoadAssignment>(Assignment(kReviews, "127.0.0.21", backend_port_));
    state->generation = 1;
    std::vector<std::string> errors;
    auto snapshot = BuildSnapshot(state, nullptr, &errors);
    ASSERT_TRUE(errors.empty()) << errors.front();
    ASSERT_EQ(snapshot->clusters.at(kEcho)->upstream_protocol, upstream::ClusterInfo::UpstreamProtocol::kHttp2);
    ASSERT_EQ(snapshot->clusters.at(kReviews)->upstream_protocol, upstream::ClusterInfo::UpstreamProtocol::kHttp1);
    ASSERT_EQ(snapshot->clusters.at(kFollow)->upstream_protocol, upstream::ClusterInfo::UpstreamProtocol::kDownstream);

    WorkerOptions options;
    options.listen = {{"127.0.0.1", 0}};
    options.seed = 7;
    options.on_request = [this](const RequestRecord& r) {
      std::lock_guard lock(records_mutex_);
      records_.push_back(r);
    };
    worker_ = std::make_unique<Worker>(options);
    std::vector<event::Endpoint> bound;
    std::string error;
    ASSERT_TRUE(worker_->Start(&bound, &error)) << error;
    proxy_port_ = bound.at(0).port;
    worker_->SetConfig(snapshot);
  }
  void TearDown() override {
    if (worker_) worker_->Stop();
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  // The record of the request to `path`, waiting for it (records come when the stream closes).
  std::optional<RequestRecord> RecordFor(const std::string& path) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard lock(records_mutex_);
        for (const auto& r : records_) {
          if (r.path == path) return r;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }

  EchoService service_;
  std::unique_ptr<grpc::Server> server_;
  int grpc_port_ = 0;
  std::unique_ptr<testing::PilotProcess> backend_;
  int backend_port_ = 0;
  std::unique_ptr<Worker> worker_;
  int proxy_port_ = 0;
  std::mutex records_mutex_;
  std::vector<RequestRecord> records_;
};

TEST_F(Http2ProxyTest, UnaryGrpcPassesMessageAndTrailers) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  CallResult result = Unary(channel, "/test.Echo/Unary", "hello");
  ASSERT_TRUE(result.status.ok()) << result.status.error_code() << " " << result.status.error_message();
  EXPECT_EQ(result.response, "echo:hello");
  ASSERT_EQ(result.trailers.count("x-echo-trailer"), 1u);
  EXPECT_EQ(result.trailers.find("x-echo-trailer")->second, "t1");
  auto record = RecordFor("/test.Echo/Unary");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->status, 200);
  EXPECT_EQ(record->grpc_status, 0);
  EXPECT_EQ(record->flags, "-");
  EXPECT_EQ(record->cluster, kEcho);
  EXPECT_EQ(record->upstream_host, "127.0.0.1:" + std::to_string(grpc_port_));
  EXPECT_EQ(record->route, "echo");
}

TEST_F(Http2ProxyTest, DownstreamProtocolClusterCarriesGrpcOverHttp2) {
  // The client speaks HTTP/2, so a cluster that follows the client's protocol does too (over
  // HTTP/1.1 the gRPC server would refuse the call).
  CallResult result = Unary(ChannelTo(proxy_port_, "echo:9090"), "/test.Echo/Follow", "f");
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.response, "echo:f");
}

TEST_F(Http2ProxyTest, ManyCallsShareOneUpstreamConnection) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  for (int i = 0; i < 20; ++i) {
    CallResult result = Unary(channel, "/test.Echo/Unary", "n" + std::to_string(i));
    ASSERT_TRUE(result.status.ok()) << i << ": " << result.status.error_message();
    EXPECT_EQ(result.response, "echo:n" + std::to_string(i));
  }
  // Concurrent calls on separate client connections, multiplexed upstream.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto own = ChannelTo(proxy_port_, "echo:9090");
      for (int i = 0; i < 10; ++i) {
        CallResult r = Unary(own, "/test.Echo/Unary", std::to_string(t) + "-" + std::to_string(i));
        if (r.status.ok() && r.response == "echo:" + std::to_string(t) + "-" + std::to_string(i)) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 40);
  // All of it went over one HTTP/2 connection of the worker (the registry lives on its thread).
  std::promise<std::size_t> count;
  worker_->loop().Post([&count] { count.set_value(Http2UpstreamConnectionCount()); });
  EXPECT_EQ(count.get_future().get(), 1u);
}

TEST_F(Http2ProxyTest, UpstreamGrpcErrorPassesThrough) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  CallResult result = Unary(channel, "/test.Echo/Fail", "x");
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(result.status.error_message(), "nope");
  auto record = RecordFor("/test.Echo/Fail");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->grpc_status, 5);  // NOT_FOUND
  EXPECT_EQ(record->status, 200);
}

TEST_F(Http2ProxyTest, BidirectionalStreamingInLockStep) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  grpc::GenericStub stub(channel);
  LockStepBidi call(stub, {"one", "two", "three", std::string(100000, 'z')});
  grpc::Status status = call.Wait();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(call.replies().size(), 4u);
  EXPECT_EQ(call.replies()[0], "echo:one");
  EXPECT_EQ(call.replies()[1], "echo:two");
  EXPECT_EQ(call.replies()[2], "echo:three");
  EXPECT_EQ(call.replies()[3], "echo:" + std::string(100000, 'z'));
  auto record = RecordFor("/test.Echo/Chat");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->grpc_status, 0);
  // Four messages each way, each with gRPC's 5-byte prefix.
  EXPECT_EQ(record->bytes_received, 3 + 3 + 5 + 100000 + 4 * 5u);
  EXPECT_EQ(record->bytes_sent, (5 + 3) + (5 + 3) + (5 + 5) + (5 + 100000) + 4 * 5u);
}

TEST_F(Http2ProxyTest, FaultAbortWithGrpcStatus) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  CallResult result = Unary(channel, "/test.Echo/Abort", "x");
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);  // 7, as configured
  EXPECT_EQ(result.status.error_message(), "fault filter abort");
  auto record = RecordFor("/test.Echo/Abort");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->grpc_status, 7);
  EXPECT_EQ(record->status, 200);
  EXPECT_EQ(record->flags, "FI");
  EXPECT_EQ(record->upstream_host, "-");
}

TEST_F(Http2ProxyTest, ProxyErrorsBecomeGrpcStatuses) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  // An HTTP abort of 503 maps to UNAVAILABLE.
  EXPECT_EQ(Unary(channel, "/test.Echo/HttpAbort", "x").status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // Connection refused upstream: 503 UF, UNAVAILABLE.
  CallResult dead = Unary(channel, "/test.Echo/Dead", "x");
  EXPECT_EQ(dead.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // The route timeout: 504 UT, UNAVAILABLE.
  CallResult hang = Unary(channel, "/test.Echo/Hang", "x");
  EXPECT_EQ(hang.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // No virtual host for the authority: 404 NR, UNIMPLEMENTED.
  auto other = ChannelTo(proxy_port_, "nobody:9090");
  EXPECT_EQ(Unary(other, "/test.Echo/Unary", "x").status.error_code(), grpc::StatusCode::UNIMPLEMENTED);

  auto dead_record = RecordFor("/test.Echo/Dead");
  ASSERT_TRUE(dead_record);
  EXPECT_EQ(dead_record->flags, "UF");
  EXPECT_EQ(dead_record->grpc_status, 14);
  auto hang_record = RecordFor("/test.Echo/Hang");
  ASSERT_TRUE(hang_record);
  EXPECT_EQ(hang_record->flags, "UT");
  EXPECT_EQ(hang_record->grpc_status, 14);
  auto http_abort = RecordFor("/test.Echo/HttpAbort");
  ASSERT_TRUE(http_abort);
  EXPECT_EQ(http_abort->flags, "FI");
  EXPECT_EQ(http_abort->grpc_status, 14);
}

TEST_F(Http2ProxyTest, RetriesGoToAnotherHostAfterAConnectFailure) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  std::uint32_t attempts = 0;
  constexpr int kCalls = 10;
  for (int i = 0; i < kCalls; ++i) {
    const std::string path = "/test.Echo/Half" + std::to_string(i);
    CallResult result = Unary(channel, path, "h");
    ASSERT_TRUE(result.status.ok()) << i << ": " << result.status.error_message();
    EXPECT_EQ(result.response, "echo:h");
    auto record = RecordFor(path);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->upstream_host, "127.0.0.1:" + std::to_string(grpc_port_));
    attempts += record->attempts;
  }
  // Round robin over the two endpoints sends about every other first attempt to the dead one;
  // each of those is retried once, on the live one.
  EXPECT_GT(attempts, static_cast<std::uint32_t>(kCalls));
  EXPECT_LE(attempts, 2u * kCalls);
}

TEST_F(Http2ProxyTest, GrpcUnavailableIsRetriedAsThePolicySays) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  CallResult result = Unary(channel, "/test.Echo/RetryUnavailable", "x");
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(result.status.error_message(), "try again");
  auto record = RecordFor("/test.Echo/RetryUnavailable");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->attempts, 3u);  // the first try and numRetries 2
  EXPECT_EQ(record->grpc_status, 14);
}

TEST_F(Http2ProxyTest, PerTryTimeoutRetriesThenAnswers504) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  const int before = hang_calls.load();
  CallResult result = Unary(channel, "/test.Echo/HangTry", "x");
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);  // 504 UT
  auto record = RecordFor("/test.Echo/HangTry");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->attempts, 2u);
  EXPECT_EQ(record->flags, "UT");
  EXPECT_EQ(hang_calls.load() - before, 2);  // both tries reached the server
}

TEST_F(Http2ProxyTest, MaxRequestsCircuitBreakerOverflows) {
  auto channel = ChannelTo(proxy_port_, "echo:9090");
  const int before = hang_calls.load();
  // One call holds the cluster's only request slot while the server sits on it...
  auto first = std::async(std::launch::async, [&] { return Unary(channel, "/test.Echo/HangOne", "x"); });
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (hang_calls.load() == before && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(hang_calls.load(), before + 1);
  // ...so a second one overflows: 503 UO, UNAVAILABLE.
  CallResult second = Unary(channel, "/test.Echo/One", "y");
  EXPECT_EQ(second.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  auto record = RecordFor("/test.Echo/One");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->flags, "UO");
  // The slot comes back when the first call ends (its route timeout, 5 s, or the teardown).
  server_->Shutdown(std::chrono::system_clock::now());
  first.get();
}

// nghttp (nghttp2-client) speaking h2c with prior knowledge; its -v output lists the frames.
struct NghttpResult {
  int exit_code = -1;
  std::string output;
};

NghttpResult Nghttp(const std::string& args) {
  NghttpResult result;
  FILE* pipe = ::popen(("nghttp -v -t 10 " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool HaveNghttp() { return std::system("command -v nghttp > /dev/null 2>&1") == 0; }

// The JSON document the demo backend answers with (the last line of nghttp's output holding a
// '{').
nlohmann::json BackendJson(const std::string& output) {
  const auto at = output.rfind("\n{");
  if (at == std::string::npos) return nlohmann::json();
  const auto end = output.find('\n', at + 1);
  return nlohmann::json::parse(output.substr(at + 1, end - at - 1), nullptr, false);
}

TEST_F(Http2ProxyTest, H2cClientToHttp1Upstream) {
  ASSERT_TRUE(HaveNghttp()) << "nghttp (Debian's nghttp2-client, which scripts/setup installs) is missing";
  const std::string url = "http://127.0.0.1:" + std::to_string(proxy_port_);
  NghttpResult get = Nghttp(url + "/reviews/1?x=y -H ':authority: reviews:9080' -H 'end-user: jason'");
  ASSERT_EQ(get.exit_code, 0) << get.output;
  EXPECT_THAT(get.output, HasSubstr(":status: 200"));
  nlohmann::json body = BackendJson(get.output);
  ASSERT_TRUE(body.is_object()) << get.output;
  EXPECT_EQ(body["method"], "GET");
  EXPECT_EQ(body["path"], "/reviews/1?x=y");
  EXPECT_EQ(body["headers"]["host"], "reviews:9080");
  EXPECT_EQ(body["headers"]["end-user"], "jason");
  EXPECT_EQ(body["headers"]["x-added"], "yes");
  EXPECT_EQ(body["headers"]["x-forwarded-proto"], "http");

  // A body: nghttp declares its length, which the HTTP/1.1 request keeps.
  testing::TempDir dir;
  dir.Write("payload", std::string(70000, 'p'));
  NghttpResult post = Nghttp(url + "/reviews/upload -H ':authority: reviews:9080' -d " + dir.Path("payload"));
  ASSERT_EQ(post.exit_code, 0) << post.output;
  nlohmann::json posted = BackendJson(post.output);
  ASSERT_TRUE(posted.is_object()) << post.output;
  EXPECT_EQ(posted["method"], "POST");
  EXPECT_EQ(posted["headers"]["content-length"], "70000");
  auto record = RecordFor("/reviews/upload");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->bytes_received, 70000u);
  EXPECT_EQ(record->status, 200);
  EXPECT_EQ(record->grpc_status, -1);  // not gRPC
  EXPECT_EQ(record->cluster, kReviews);
}

// What a shell command printed (stdout and whatever it redirects there).
std::string RunOutput(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  ::pclose(pipe);
  return output;
}

TEST_F(Http2ProxyTest, ManyMultiplexedH2cStreamsToAnHttp1Upstream) {
  ASSERT_EQ(std::system("command -v h2load > /dev/null 2>&1"), 0)
      << "h2load (Debian's nghttp2-client, which scripts/setup installs) is missing";
  // 4 connections x 16 concurrent streams each, 2,000 requests, all to the HTTP/1.1 pool.
  const std::string command = "h2load -n 2000 -c 4 -m 16 -H ':authority: reviews:9080' http://127.0.0.1:" +
                              std::to_string(proxy_port_) + "/reviews/load 2>&1";
  const std::string output = RunOutput(command);
  EXPECT_THAT(output, HasSubstr("2000 succeeded, 0 failed, 0 errored")) << output;
  EXPECT_THAT(output, HasSubstr("status codes: 2000 2xx")) << output;
}

// Requests of an HTTP/2 client to an HTTP/1.1 cluster reuse the kept-alive upstream connection
// (a bug once closed it after each answer: the exchange let go of its attempt inside the call that
// delivered the answer's last bytes).
TEST_F(Http2ProxyTest, H2cRequestsReuseTheKeptAliveHttp1Connection) {
  ASSERT_EQ(std::system("command -v h2load > /dev/null 2>&1"), 0)
      << "h2load (Debian's nghttp2-client, which scripts/setup installs) is missing";
  // One connection, one stream at a time: 200 sequential requests.
  const std::string command = "h2load -n 200 -c 1 -m 1 -H ':authority: reviews:9080' http://127.0.0.1:" +
                              std::to_string(proxy_port_) + "/reviews/seq 2>&1";
  const std::string output = RunOutput(command);
  ASSERT_THAT(output, HasSubstr("200 succeeded, 0 failed, 0 errored")) << output;
  std::uint64_t attempts = 0, reused = 0;
  for (const EndpointStats& e : worker_->CollectEndpointStats(std::chrono::seconds(5))) {
    if (e.cluster != kReviews) continue;
    attempts += e.connect_attempts;
    reused += e.reused;
  }
  // Sequential requests need one connection; allow a few for races with the backend's own
  // keep-alive handling, none near one per request.
  EXPECT_LE(attempts, 5u) << "connections opened for 200 sequential requests";
  EXPECT_GE(reused, 195u);
}

TEST_F(Http2ProxyTest, H2cLocalAnswerIsPlainHttp) {
  ASSERT_TRUE(HaveNghttp()) << "nghttp (Debian's nghttp2-client, which scripts/setup installs) is missing";
  NghttpResult result = Nghttp("http://127.0.0.1:" + std::to_string(proxy_port_) + "/x -H ':authority: unknown:9080'");
  EXPECT_THAT(result.output, HasSubstr(":status: 404"));
  EXPECT_THAT(result.output, HasSubstr("x-cmesh-response-flags: NR"));
}

}  // namespace
}  // namespace cmesh::proxy_core
