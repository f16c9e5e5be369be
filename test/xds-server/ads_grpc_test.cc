// The ADS service end to end over real gRPC: an in-process XdsGrpcServer on 127.0.0.1:0 and the
// client stub generated from ads.proto. The protocol details are unit-tested on the state
// machines; these tests check that the transport carries them (type URLs, nonces, ordering,
// stream lifetime, malformed input, shutdown).
#include <sys/resource.h>

#include <chrono>
#include <future>

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "ads_test_client.h"
#include "cmesh/xds/open_files_limit.h"
#include "cmesh/xds/xds_grpc_server.h"
#include "test_resources.h"

namespace cmesh::xds {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using namespace cmesh::xds::testing;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr ResourceType kCds = ResourceType::kCluster, kEds = ResourceType::kEndpoint,
                       kLds = ResourceType::kListener, kRds = ResourceType::kRoute;
constexpr auto kGroup = "mesh";

// Names of the resources in a SotW response, after checking each Any carries the response's type.
std::vector<std::string> NamesIn(const DiscoveryResponse& response) {
  std::vector<std::string> names;
  for (const auto& any : response.resources()) {
    EXPECT_EQ(any.type_url(), response.type_url());
    if (any.Is<envoy::config::cluster::v3::Cluster>()) {
      envoy::config::cluster::v3::Cluster cluster;
      any.UnpackTo(&cluster);
      names.push_back(cluster.name());
    } else if (any.Is<envoy::config::endpoint::v3::ClusterLoadAssignment>()) {
      envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
      any.UnpackTo(&assignment);
      names.push_back(assignment.cluster_name());
    } else if (any.Is<envoy::config::listener::v3::Listener>()) {
      envoy::config::listener::v3::Listener listener;
      any.UnpackTo(&listener);
      names.push_back(listener.name());
    } else if (any.Is<envoy::config::route::v3::RouteConfiguration>()) {
      envoy::config::route::v3::RouteConfiguration route;
      any.UnpackTo(&route);
      names.push_back(route.name());
    } else {
      ADD_FAILURE() << "unexpected resource type " << any.type_url();
    }
  }
  return names;
}

std::vector<std::string> NamesIn(const DeltaDiscoveryResponse& response) {
  std::vector<std::string> names;
  for (const auto& resource : response.resources()) {
    EXPECT_EQ(resource.resource().type_url(), response.type_url());
    names.push_back(resource.name());
  }
  return names;
}

// The mesh after a change touching every type: a new service c, a's endpoints moved and a's route
// now sending to c.
SnapshotPtr ChangedMesh() {
  SnapshotBuilder builder;
  for (const std::string service : {"a", "b", "c"}) {
    builder.Add(MakeResource(Listener(service + ":80", service + "-route")));
    builder.Add(MakeResource(Route(service + "-route", service == "a" ? "c" : service)));
    builder.Add(MakeResource(EdsCluster(service)));
  }
  builder.Add(MakeResource(Assignment("a", {"10.0.9.9"})));
  builder.Add(MakeResource(Assignment("b", {"10.0.0.2"})));
  builder.Add(MakeResource(Assignment("c", {"10.0.0.3"})));
  return std::move(builder).Build();
}

template <typename RequestT>
RequestT WithNode(RequestT request, const std::string& id = "sidecar~10.0.0.1~app.default~default.svc.cluster.local") {
  request.mutable_node()->set_id(id);
  return request;
}

class AdsGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(cache.SetSnapshot(kGroup, MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}})), IsEmpty());
    XdsGrpcServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.log = [this](std::string_view line) { log.emplace_back(line); };
    std::string error;
    ASSERT_TRUE(server.Start(options, &error)) << error;
    ASSERT_GT(server.port(), 0);
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials());
    stub = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel);
  }

  std::unique_ptr<SotwTestStream> OpenSotw() {
    return std::make_unique<SotwTestStream>(*stub, &AdsStub::StreamAggregatedResources);
  }
  std::unique_ptr<DeltaTestStream> OpenDelta() {
    return std::make_unique<DeltaTestStream>(*stub, &AdsStub::DeltaAggregatedResources);
  }

  // Sends `request` and returns the response it causes, which must be of `type`.
  DiscoveryResponse Exchange(SotwTestStream& stream, const envoy::service::discovery::v3::DiscoveryRequest& request) {
    EXPECT_TRUE(stream.Send(request));
    auto response = stream.Next();
    if (!response) {
      ADD_FAILURE() << "no response to a request for " << request.type_url();
      return {};
    }
    EXPECT_EQ(response->type_url(), request.type_url());
    return *response;
  }
  // The ACK of `response`, keeping the subscription `names`.
  static envoy::service::discovery::v3::DiscoveryRequest Ack(ResourceType type, std::vector<std::string> names,
                                                             const DiscoveryResponse& response) {
    return Request(type, std::move(names), response.nonce(), response.version_info());
  }

  SnapshotCache cache;
  SessionRegistry registry;
  XdsGrpcServer server{cache, registry, [](const envoy::config::core::v3::Node&) { return std::string(kGroup); }};
  std::vector<std::string> log;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<AdsStub> stub;
};

TEST_F(AdsGrpcTest, StartLogsTheOpenFilesLimitAndTheBoundPort) {
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0], ::testing::HasSubstr("open files limit"));
  EXPECT_THAT(log[1], ::testing::EndsWith(":" + std::to_string(server.port())));
}

TEST_F(AdsGrpcTest, SotwServesWildcardCdsLdsAndNamedEdsRdsWithTheirTypeUrls) {
  auto stream = OpenSotw();
  DiscoveryResponse cds = Exchange(*stream, WithNode(Request(kCds, {})));
  EXPECT_EQ(cds.type_url(), TypeUrl(kCds));
  EXPECT_THAT(NamesIn(cds), UnorderedElementsAre("a", "b"));
  EXPECT_FALSE(cds.version_info().empty());
  EXPECT_FALSE(cds.nonce().empty());

  DiscoveryResponse eds = Exchange(*stream, Request(kEds, {"a", "b"}));
  EXPECT_THAT(NamesIn(eds), UnorderedElementsAre("a", "b"));
  DiscoveryResponse lds = Exchange(*stream, Request(kLds, {}));
  EXPECT_THAT(NamesIn(lds), UnorderedElementsAre("a:80", "b:80"));
  DiscoveryResponse rds = Exchange(*stream, Request(kRds, {"b-route"}));
  EXPECT_THAT(NamesIn(rds), ElementsAre("b-route"));
  // Every response has a fresh nonce.
  EXPECT_NE(cds.nonce(), eds.nonce());
  EXPECT_NE(eds.nonce(), lds.nonce());
  EXPECT_NE(lds.nonce(), rds.nonce());

  // ACKs are recorded per type with the version that was sent.
  ASSERT_TRUE(stream->Send(Ack(kCds, {}, cds)));
  ASSERT_TRUE(stream->Send(Ack(kLds, {}, lds)));
  // A grown RDS subscription is answered at once; it also tells us the ACKs before it were read.
  DiscoveryResponse rds2 = Exchange(*stream, Ack(kRds, {"b-route", "a-route"}, rds));
  EXPECT_THAT(NamesIn(rds2), ElementsAre("a-route"));
  auto sessions = registry.List();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].group_key, kGroup);
  ASSERT_TRUE(sessions[0].status.node.has_value());
  EXPECT_EQ(sessions[0].status.node->id(), "sidecar~10.0.0.1~app.default~default.svc.cluster.local");
  EXPECT_EQ(sessions[0].status.For(kCds).acked_version, cds.version_info());
  EXPECT_EQ(sessions[0].status.For(kLds).acked_version, lds.version_info());
  EXPECT_EQ(sessions[0].status.For(kRds).acked_version, rds.version_info());
}

TEST_F(AdsGrpcTest, SotwNackIsRecordedAndTheRejectedVersionIsNotResent) {
  auto stream = OpenSotw();
  DiscoveryResponse lds = Exchange(*stream, WithNode(Request(kLds, {})));
  DiscoveryResponse rds = Exchange(*stream, Request(kRds, {"a-route"}));
  // gRPC NACKs with the version it rejected; only error_detail makes it a NACK.
  auto nack = Nack(kLds, {}, lds.nonce(), "listener a:80: bad filter chain");
  nack.set_version_info(lds.version_info());
  ASSERT_TRUE(stream->Send(nack));
  // Then a request that does get an answer: had the NACK caused a re-send, the LDS response would
  // come first on the stream.
  DiscoveryResponse rds2 = Exchange(*stream, Ack(kRds, {"a-route", "b-route"}, rds));
  EXPECT_THAT(NamesIn(rds2), ElementsAre("b-route"));

  auto sessions = registry.List();
  ASSERT_EQ(sessions.size(), 1u);
  const StreamStatus& status = sessions[0].status;
  ASSERT_TRUE(status.last_nack.has_value());
  EXPECT_EQ(status.last_nack->type, kLds);
  EXPECT_EQ(status.last_nack->message, "listener a:80: bad filter chain");
  EXPECT_EQ(status.last_nack->rejected_version, lds.version_info());
  EXPECT_EQ(status.For(kLds).nacks, 1u);
  EXPECT_EQ(status.For(kLds).acked_version, "");
}

TEST_F(AdsGrpcTest, SotwPushesANewSnapshotInCdsEdsLdsRdsOrder) {
  auto stream = OpenSotw();
  DiscoveryResponse lds = Exchange(*stream, WithNode(Request(kLds, {})));
  DiscoveryResponse rds = Exchange(*stream, Request(kRds, {"a-route", "b-route"}));
  DiscoveryResponse cds = Exchange(*stream, Request(kCds, {}));
  DiscoveryResponse eds = Exchange(*stream, Request(kEds, {"a", "b"}));
  for (const auto& [type, response, names] :
       {std::tuple{kLds, lds, std::vector<std::string>{}}, std::tuple{kRds, rds, std::vector<std::string>{"a-route", "b-route"}},
        std::tuple{kCds, cds, std::vector<std::string>{}}, std::tuple{kEds, eds, std::vector<std::string>{"a", "b"}}}) {
    ASSERT_TRUE(stream->Send(Ack(type, names, response)));
  }

  ASSERT_THAT(cache.SetSnapshot(kGroup, ChangedMesh()), IsEmpty());
  std::vector<std::string> order;
  std::vector<DiscoveryResponse> pushed;
  for (int i = 0; i < 4; ++i) {
    auto response = stream->Next();
    ASSERT_TRUE(response.has_value()) << "only " << i << " responses pushed";
    pushed.push_back(*response);
    order.push_back(response->type_url());
  }
  EXPECT_THAT(order, ElementsAre(TypeUrl(kCds), TypeUrl(kEds), TypeUrl(kLds), TypeUrl(kRds)));
  EXPECT_THAT(NamesIn(pushed[0]), UnorderedElementsAre("a", "b", "c"));  // full set
  EXPECT_THAT(NamesIn(pushed[1]), ElementsAre("a"));                     // only what changed
  EXPECT_THAT(NamesIn(pushed[2]), UnorderedElementsAre("a:80", "b:80", "c:80"));
  EXPECT_THAT(NamesIn(pushed[3]), ElementsAre("a-route"));
  EXPECT_NE(pushed[0].version_info(), cds.version_info());
}

TEST_F(AdsGrpcTest, SotwIgnoresARequestWithAStaleNonce) {
  auto stream = OpenSotw();
  DiscoveryResponse rds1 = Exchange(*stream, WithNode(Request(kRds, {"a-route"})));
  DiscoveryResponse rds2 = Exchange(*stream, Request(kRds, {"a-route", "b-route"}, rds1.nonce()));
  // Echoing the older nonce: ignored, so its (grown) subscription gets no answer.
  ASSERT_TRUE(stream->Send(Request(kRds, {"a-route", "b-route", "c-route"}, rds1.nonce())));
  // A request that is answered, to show nothing came in between.
  DiscoveryResponse cds = Exchange(*stream, Request(kCds, {}));
  EXPECT_THAT(NamesIn(cds), UnorderedElementsAre("a", "b"));
  auto sessions = registry.List();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].status.stale_nonces, 1u);
  EXPECT_EQ(sessions[0].status.For(kRds).sent_nonce, rds2.nonce());
}

TEST_F(AdsGrpcTest, DeltaSubscribesAndReportsRemovedResources) {
  auto stream = OpenDelta();
  ASSERT_TRUE(stream->Send(WithNode(DeltaRequest(kCds, {"a", "b"}))));
  auto cds = stream->Next();
  ASSERT_TRUE(cds.has_value());
  EXPECT_EQ(cds->type_url(), TypeUrl(kCds));
  EXPECT_THAT(NamesIn(*cds), UnorderedElementsAre("a", "b"));
  for (const auto& resource : cds->resources()) EXPECT_FALSE(resource.version().empty());
  ASSERT_TRUE(stream->Send(DeltaRequest(kCds, {}, {}, cds->nonce())));  // ACK
  ASSERT_TRUE(stream->Send(DeltaRequest(kEds, {"a", "b"})));
  auto eds = stream->Next();
  ASSERT_TRUE(eds.has_value());
  EXPECT_THAT(NamesIn(*eds), UnorderedElementsAre("a", "b"));
  ASSERT_TRUE(stream->Send(DeltaRequest(kEds, {}, {}, eds->nonce())));  // ACK

  // b goes away: both its cluster and its assignment are reported removed.
  ASSERT_THAT(cache.SetSnapshot(kGroup, MeshSnapshot({{"a", "10.0.0.1"}})), IsEmpty());
  std::map<std::string, std::vector<std::string>> removed;
  for (int i = 0; i < 2; ++i) {
    auto response = stream->Next();
    ASSERT_TRUE(response.has_value());
    EXPECT_THAT(response->resources(), IsEmpty());
    removed[response->type_url()].assign(response->removed_resources().begin(), response->removed_resources().end());
  }
  EXPECT_THAT(removed[std::string(TypeUrl(kCds))], ElementsAre("b"));
  EXPECT_THAT(removed[std::string(TypeUrl(kEds))], ElementsAre("b"));
}

TEST_F(AdsGrpcTest, DeltaReconnectSendsOnlyWhatDiffersFromInitialResourceVersions) {
  std::string version_of_a;
  {
    auto stream = OpenDelta();
    ASSERT_TRUE(stream->Send(WithNode(DeltaRequest(kCds, {"a", "b"}))));
    auto cds = stream->Next();
    ASSERT_TRUE(cds.has_value());
    for (const auto& resource : cds->resources()) {
      if (resource.name() == "a") version_of_a = resource.version();
    }
    ASSERT_FALSE(version_of_a.empty());
    EXPECT_TRUE(stream->Close().ok());
  }
  // While the client was away, b was deleted. It comes back holding a (current) and b.
  ASSERT_THAT(cache.SetSnapshot(kGroup, MeshSnapshot({{"a", "10.0.0.1"}})), IsEmpty());
  auto stream = OpenDelta();
  auto request = WithNode(DeltaRequest(kCds, {"a", "b"}));
  (*request.mutable_initial_resource_versions())["a"] = version_of_a;
  (*request.mutable_initial_resource_versions())["b"] = "old";
  ASSERT_TRUE(stream->Send(request));
  auto cds = stream->Next();
  ASSERT_TRUE(cds.has_value());
  EXPECT_THAT(cds->resources(), IsEmpty());  // a is unchanged: not sent again
  EXPECT_THAT(cds->removed_resources(), ElementsAre("b"));
}

TEST_F(AdsGrpcTest, ClientThatLeavesIsRemovedFromTheRegistry) {
  auto leaving = OpenSotw();
  auto cancelled = OpenDelta();
  Exchange(*leaving, WithNode(Request(kCds, {})));
  ASSERT_TRUE(cancelled->Send(WithNode(DeltaRequest(kCds, {"a"}))));
  ASSERT_TRUE(cancelled->Next().has_value());
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(server.service().open_streams(), 2u);

  EXPECT_TRUE(leaving->Close().ok());  // half-close: the server ends the stream with OK
  ASSERT_TRUE(server.service().WaitForOpenStreams(1, std::chrono::seconds(5)));
  cancelled->Cancel();  // gone without a goodbye
  ASSERT_TRUE(server.service().WaitForOpenStreams(0, std::chrono::seconds(5)));
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_THAT(registry.List(), IsEmpty());
}

// Writes raw bytes on an ADS method, as a broken or hostile client would.
class RawBytesCall : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  RawBytesCall(grpc::GenericStub& stub, const std::string& method, const std::string& bytes) {
    grpc::Slice slice(bytes);
    out_ = grpc::ByteBuffer(&slice, 1);
    stub.PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(), this);
    StartWrite(&out_);
    StartRead(&in_);
    StartCall();
  }
  grpc::Status Wait() {
    auto future = done_.get_future();
    if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      context_.TryCancel();
      return future.get();
    }
    return future.get();
  }

 private:
  void OnDone(const grpc::Status& status) override { done_.set_value(status); }
  grpc::ClientContext context_;
  grpc::ByteBuffer out_, in_;
  std::promise<grpc::Status> done_;
};

TEST_F(AdsGrpcTest, MalformedBytesEndThatStreamWithInvalidArgumentAndOthersKeepBeingServed) {
  auto healthy = OpenSotw();
  DiscoveryResponse rds = Exchange(*healthy, WithNode(Request(kRds, {"a-route"})));

  grpc::GenericStub generic(channel);
  // Field 1 (length-delimited) claiming far more bytes than follow.
  const std::string garbage("\x0a\xff\xff\xff\x0f\x01\x02", 7);
  for (std::string_view method : {kSotwMethod, kDeltaMethod}) {
    RawBytesCall call(generic, std::string(method), garbage);
    grpc::Status status = call.Wait();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method << ": " << status.error_message();
  }
  ASSERT_TRUE(server.service().WaitForOpenStreams(1, std::chrono::seconds(5)));
  DiscoveryResponse more = Exchange(*healthy, Ack(kRds, {"a-route", "b-route"}, rds));
  EXPECT_THAT(NamesIn(more), ElementsAre("b-route"));
}

TEST_F(AdsGrpcTest, LargeResourceBeyondGrpcsDefault4MiBReachesEveryStreamIntact) {
  // Over gRPC's default 4 MiB message limit, and far over the size from which the encoder hands
  // gRPC the resource's own bytes instead of a copy.
  envoy::config::endpoint::v3::ClusterLoadAssignment big = Assignment("a", {});
  for (int i = 0; i < 250'000; ++i) {
    auto* address = big.mutable_endpoints(0)->add_lb_endpoints()->mutable_endpoint()->mutable_address()
                        ->mutable_socket_address();
    address->set_address("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                         std::to_string(i % 256));
    address->set_port_value(8080);
  }
  SnapshotBuilder builder;
  builder.Add(MakeResource(EdsCluster("a")));
  ResourcePtr resource = MakeResource(big);
  ASSERT_GT(resource->body.value().size(), 4u << 20);
  builder.Add(resource);
  ASSERT_THAT(cache.SetSnapshot(kGroup, std::move(builder).Build()), IsEmpty());

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto big_channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server.port()),
                                               grpc::InsecureChannelCredentials(), args);
  auto big_stub = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(big_channel);
  SotwTestStream first(*big_stub, &AdsStub::StreamAggregatedResources);
  SotwTestStream second(*big_stub, &AdsStub::StreamAggregatedResources);
  for (SotwTestStream* stream : {&first, &second}) {
    ASSERT_TRUE(stream->Send(WithNode(Request(kEds, {"a"}))));
  }
  for (SotwTestStream* stream : {&first, &second}) {
    auto response = stream->Next(std::chrono::seconds(20));
    ASSERT_TRUE(response.has_value());
    ASSERT_EQ(response->resources_size(), 1);
    EXPECT_EQ(response->resources(0).value(), resource->body.value());
  }
}

// A client that sends its request and never reads: each change queues a response behind the
// stuck write, until the bound ends the stream; a reading client on the same server is unharmed.
TEST(AdsGrpcSlowClientTest, StreamOfAClientThatDoesNotReadIsEndedOnceItsQueueIsFull) {
  SnapshotCache cache;
  SessionRegistry registry;
  XdsGrpcServer server(cache, registry, [](const envoy::config::core::v3::Node&) { return std::string(kGroup); });
  XdsGrpcServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.max_queued_responses = 4;
  options.log = [](std::string_view) {};
  std::string error;
  ASSERT_TRUE(server.Start(options, &error)) << error;
  // Large enough (about 1 MiB each) that a few fill the HTTP/2 flow-control windows of a client
  // that does not read, so the server's write in flight stalls.
  auto big_mesh = [](int generation) {
    envoy::config::endpoint::v3::ClusterLoadAssignment big = Assignment("a", {});
    for (int i = 0; i < 40'000; ++i) {
      auto* address = big.mutable_endpoints(0)->add_lb_endpoints()->mutable_endpoint()->mutable_address()
                          ->mutable_socket_address();
      address->set_address("10." + std::to_string(generation) + "." + std::to_string(i / 256 % 256) + "." +
                           std::to_string(i % 256));
      address->set_port_value(8080);
    }
    SnapshotBuilder builder;
    builder.Add(MakeResource(EdsCluster("a")));
    builder.Add(MakeResource(big));
    return std::move(builder).Build();
  };
  ASSERT_THAT(cache.SetSnapshot(kGroup, big_mesh(0)), IsEmpty());

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // its own connection
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server.port()),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel);
  grpc::ClientContext stuck_context;
  auto stuck = stub->StreamAggregatedResources(&stuck_context);
  ASSERT_TRUE(stuck->Write(WithNode(Request(kEds, {"a"}))));
  ASSERT_TRUE(server.service().WaitForOpenStreams(1, std::chrono::seconds(5)));

  int published = 0;
  for (int generation = 1; generation < 200 && server.service().overflowed_streams() == 0; ++generation) {
    ASSERT_THAT(cache.SetSnapshot(kGroup, big_mesh(generation)), IsEmpty());
    ++published;
  }
  EXPECT_EQ(server.service().overflowed_streams(), 1u) << "after " << published << " snapshots";
  // More than the bound were needed: the queue really held that many before giving up.
  EXPECT_GT(published, 4);
  EXPECT_TRUE(server.service().WaitForOpenStreams(0, std::chrono::seconds(10)));

  // The server goes on serving: a new stream gets the current state at once.
  SotwTestStream fresh(*stub, &AdsStub::StreamAggregatedResources);
  ASSERT_TRUE(fresh.Send(WithNode(Request(kEds, {"a"}))));
  auto response = fresh.Next(std::chrono::seconds(10));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->resources_size(), 1);
  stuck_context.TryCancel();
}

TEST_F(AdsGrpcTest, ManyConcurrentStreamsOnOneConnectionAllReceiveAPush) {
  constexpr int kStreams = 150;  // SotW and delta each, all on one connection
  std::vector<std::unique_ptr<SotwTestStream>> sotw;
  std::vector<std::unique_ptr<DeltaTestStream>> delta;
  for (int i = 0; i < kStreams; ++i) {
    sotw.push_back(OpenSotw());
    ASSERT_TRUE(sotw.back()->Send(WithNode(Request(kCds, {}), "sotw-" + std::to_string(i))));
    delta.push_back(OpenDelta());
    ASSERT_TRUE(delta.back()->Send(WithNode(DeltaRequest(kCds, {"a", "b", "c"}), "delta-" + std::to_string(i))));
  }
  for (int i = 0; i < kStreams; ++i) {
    auto first = sotw[i]->Next();
    ASSERT_TRUE(first.has_value()) << i;
    ASSERT_TRUE(sotw[i]->Send(Ack(kCds, {}, *first)));
    // Delta: additions first, then the missing c reported absent (removals go after updates).
    auto added = delta[i]->Next();
    ASSERT_TRUE(added.has_value()) << i;
    EXPECT_THAT(NamesIn(*added), UnorderedElementsAre("a", "b"));
    auto absent = delta[i]->Next();
    ASSERT_TRUE(absent.has_value()) << i;
    EXPECT_THAT(absent->removed_resources(), ElementsAre("c"));
  }
  EXPECT_EQ(server.service().open_streams(), 2u * kStreams);
  EXPECT_EQ(registry.size(), 2u * kStreams);

  ASSERT_THAT(cache.SetSnapshot(kGroup, ChangedMesh()), IsEmpty());
  for (int i = 0; i < kStreams; ++i) {
    auto pushed = sotw[i]->Next();
    ASSERT_TRUE(pushed.has_value()) << i;
    EXPECT_THAT(NamesIn(*pushed), UnorderedElementsAre("a", "b", "c"));
    auto added = delta[i]->Next();
    ASSERT_TRUE(added.has_value()) << i;
    EXPECT_THAT(NamesIn(*added), ElementsAre("c"));  // a and b are unchanged clusters
  }
}

TEST_F(AdsGrpcTest, APortInUseIsAnErrorNotASharedListener) {
  SnapshotCache other_cache;
  SessionRegistry other_registry;
  XdsGrpcServer second(other_cache, other_registry, [](const envoy::config::core::v3::Node&) { return std::string(); });
  XdsGrpcServerOptions options;
  options.address = "127.0.0.1";
  options.port = server.port();
  options.log = [](std::string_view) {};
  std::string error;
  EXPECT_FALSE(second.Start(options, &error));
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(server.port())), std::string::npos) << error;
}

TEST_F(AdsGrpcTest, OtherMethodsAreUnimplemented) {
  grpc::GenericStub generic(channel);
  RawBytesCall call(generic, "/envoy.service.discovery.v3.AggregatedDiscoveryService/NoSuchMethod", "");
  EXPECT_EQ(call.Wait().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(AdsGrpcTest, ShutdownEndsOpenStreamsPromptlyWithUnavailable) {
  auto sotw = OpenSotw();
  auto delta = OpenDelta();
  Exchange(*sotw, WithNode(Request(kLds, {})));
  ASSERT_TRUE(delta->Send(WithNode(DeltaRequest(kCds, {"a"}))));
  ASSERT_TRUE(delta->Next().has_value());

  // A grace far longer than the bound below: returning in time means the streams were ended by
  // the server, not cancelled when the grace ran out.
  auto start = std::chrono::steady_clock::now();
  server.Shutdown(std::chrono::seconds(30));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(sotw->AwaitEnd().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(delta->AwaitEnd().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(server.service().open_streams(), 0u);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(OpenFilesLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  OpenFilesLimit result = RaiseOpenFilesLimit();
  ASSERT_TRUE(result.ok) << result.error;
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(now.rlim_cur), result.after);
  EXPECT_GE(result.after, result.before);
  if (now.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(now.rlim_cur, now.rlim_max);
  }
  EXPECT_THAT(Describe(result), ::testing::HasSubstr(std::to_string(result.after)));
}

}  // namespace
}  // namespace cmesh::xds
