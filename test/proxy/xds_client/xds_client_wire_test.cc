// XdsClient over real gRPC against a scripted server: the exact requests on the wire (node,
// order, names, ACK/NACK contents), re-subscription on a new stream, and malformed bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/xds_client/xds_client.h"
#include "responses.h"
#include "scripted_ads_server.h"
#include "test_resources.h"

namespace cmesh::xds_client {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace testing;
namespace xt = cmesh::xds::testing;

constexpr auto kDeadline = std::chrono::seconds(10);

// Polls `done` until it holds or the deadline passes.
template <typename Predicate>
bool WaitFor(Predicate done, std::chrono::milliseconds timeout = kDeadline) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class XdsClientWireTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server.Start()); }

  XdsClientOptions Options() {
    XdsClientOptions options;
    options.server = "127.0.0.1:" + std::to_string(server.port());
    options.node_id = "sidecar~10.1.1.10~web-1.demo~demo.svc.cluster.local";
    options.namespace_name = "demo";
    options.labels = {{"app", "web"}, {"version", "v1"}};
    options.instance_ips = {"10.1.1.10", "fd00::10"};
    options.proxy_version = "0.1.0";
    options.backoff_base = std::chrono::milliseconds(20);
    options.backoff_max = std::chrono::milliseconds(200);
    return options;
  }

  // The next request, which must be of `type_url`.
  DiscoveryRequest Expect(std::string_view type_url, int stream = 1) {
    auto received = server.Next();
    if (!received) {
      ADD_FAILURE() << "no request for " << type_url;
      return {};
    }
    EXPECT_EQ(received->request.type_url(), type_url);
    EXPECT_EQ(received->stream, stream);
    return received->request;
  }

  ScriptedAdsServer server;
};

TEST_F(XdsClientWireTest, SendsTheNodeOnceSubscribesLikeEnvoyAndAcksOrNacks) {
  XdsClient client(Options(), nullptr);
  client.Start();

  DiscoveryRequest cds = Expect(kClusterTypeUrl);
  const auto& node = cds.node();
  EXPECT_EQ(node.id(), "sidecar~10.1.1.10~web-1.demo~demo.svc.cluster.local");
  EXPECT_EQ(node.user_agent_name(), "cmesh-proxy");
  EXPECT_EQ(node.user_agent_version(), "0.1.0");
  EXPECT_TRUE(node.has_locality());
  EXPECT_EQ(node.locality().ByteSizeLong(), 0u);
  const auto& fields = node.metadata().fields();
  EXPECT_EQ(fields.at("NAMESPACE").string_value(), "demo");
  EXPECT_EQ(fields.at("INSTANCE_IPS").string_value(), "10.1.1.10,fd00::10");
  EXPECT_EQ(fields.at("CMESH_VERSION").string_value(), "0.1.0");
  const auto& labels = fields.at("LABELS").struct_value().fields();
  EXPECT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels.at("app").string_value(), "web");
  EXPECT_EQ(labels.at("version").string_value(), "v1");
  EXPECT_THAT(cds.resource_names(), IsEmpty());

  DiscoveryRequest lds = Expect(kListenerTypeUrl);
  EXPECT_FALSE(lds.has_node());
  EXPECT_THAT(lds.resource_names(), IsEmpty());

  // Clusters: EDS is subscribed for the EDS cluster, then the CDS response is ACKed.
  ASSERT_TRUE(server.Send(Response(std::string(kClusterTypeUrl), "c1", "n1", xt::EdsCluster("a"))));
  DiscoveryRequest eds = Expect(kEndpointTypeUrl);
  EXPECT_THAT(NamesOf(eds), ElementsAre("a"));
  DiscoveryRequest cds_ack = Expect(kClusterTypeUrl);
  EXPECT_EQ(cds_ack.version_info(), "c1");
  EXPECT_EQ(cds_ack.response_nonce(), "n1");
  EXPECT_FALSE(cds_ack.has_error_detail());

  // A listener the proxy cannot use: NACK, with the previous (empty) version and the reason.
  envoy::config::listener::v3::Listener broken;
  broken.set_name("0.0.0.0_9080");
  *broken.add_filter_chains()->add_filters()->mutable_typed_config() = Pack(HttpConnectionManager());
  ASSERT_TRUE(server.Send(Response(std::string(kListenerTypeUrl), "l1", "n2", broken)));
  DiscoveryRequest nack = Expect(kListenerTypeUrl);
  EXPECT_EQ(nack.version_info(), "");
  EXPECT_EQ(nack.response_nonce(), "n2");
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_THAT(nack.error_detail().message(), HasSubstr("Listener \"0.0.0.0_9080\""));

  // The fixed listener: RDS subscribed, then the ACK.
  ASSERT_TRUE(server.Send(Response(std::string(kListenerTypeUrl), "l2", "n3", ChainListener("0.0.0.0_9080", {"9080"}))));
  DiscoveryRequest rds = Expect(kRouteTypeUrl);
  EXPECT_THAT(NamesOf(rds), ElementsAre("9080"));
  DiscoveryRequest lds_ack = Expect(kListenerTypeUrl);
  EXPECT_EQ(lds_ack.version_info(), "l2");
  EXPECT_FALSE(lds_ack.has_error_detail());

  XdsClientStatus status = client.Status();
  EXPECT_TRUE(status.connected);
  EXPECT_EQ(status.nacks, 1u);
  EXPECT_EQ(status.acks, 2u);
  ASSERT_TRUE(status.last_nack.has_value());
  EXPECT_EQ(status.last_nack->type, XdsType::kListener);
  EXPECT_EQ(status.last_nack->rejected_version, "l1");
  EXPECT_EQ(status.type(XdsType::kListener).version, "l2");
  EXPECT_EQ(status.generation, 0u);  // EDS and RDS not answered yet: nothing delivered
}

TEST_F(XdsClientWireTest, MalformedBytesEndTheStreamAndTheNextStreamResubscribesWithTheKnownVersions) {
  std::vector<XdsStatePtr> configs;
  std::mutex mutex;
  XdsClient client(Options(), [&](XdsStatePtr state) {
    std::lock_guard lock(mutex);
    configs.push_back(std::move(state));
  });
  client.Start();
  Expect(kClusterTypeUrl);
  Expect(kListenerTypeUrl);
  ASSERT_TRUE(server.Send(Response(std::string(kClusterTypeUrl), "c1", "n1", xt::EdsCluster("a"))));
  Expect(kEndpointTypeUrl);
  Expect(kClusterTypeUrl);
  ASSERT_TRUE(server.Send(Response(std::string(kEndpointTypeUrl), "e1", "n2", xt::Assignment("a", {"10.0.0.1"}))));
  Expect(kEndpointTypeUrl);
  ASSERT_TRUE(server.Send(Response(std::string(kListenerTypeUrl), "l1", "n3", xt::Listener("la", "ra"))));
  Expect(kRouteTypeUrl);
  Expect(kListenerTypeUrl);
  ASSERT_TRUE(server.Send(Response(std::string(kRouteTypeUrl), "r1", "n4", xt::Route("ra", "a"))));
  Expect(kRouteTypeUrl);
  ASSERT_TRUE(WaitFor([&] { return client.Status().generation == 1; }));

  // Bytes that are no protobuf at all (a field with wire type 7).
  ASSERT_TRUE(server.SendRaw(std::string("\x0f\xff\xff\xff", 4)));
  // A second stream, opened from scratch with everything the client holds.
  DiscoveryRequest cds = Expect(kClusterTypeUrl, 2);
  EXPECT_EQ(cds.version_info(), "c1");
  EXPECT_EQ(cds.response_nonce(), "");
  EXPECT_TRUE(cds.has_node());
  DiscoveryRequest eds = Expect(kEndpointTypeUrl, 2);
  EXPECT_EQ(eds.version_info(), "e1");
  EXPECT_THAT(NamesOf(eds), ElementsAre("a"));
  DiscoveryRequest lds = Expect(kListenerTypeUrl, 2);
  EXPECT_EQ(lds.version_info(), "l1");
  DiscoveryRequest rds = Expect(kRouteTypeUrl, 2);
  EXPECT_EQ(rds.version_info(), "r1");
  EXPECT_THAT(NamesOf(rds), ElementsAre("ra"));

  XdsClientStatus status = client.Status();
  EXPECT_EQ(status.malformed_responses, 1u);
  EXPECT_EQ(status.streams, 2u);
  EXPECT_EQ(status.reconnects, 1u);
  EXPECT_EQ(status.last_stream_error, "malformed DiscoveryResponse");
  // The state delivered before the bad bytes is still the client's; nothing else was delivered.
  ASSERT_NE(client.Current(), nullptr);
  EXPECT_TRUE(client.Current()->routes.contains("ra"));
  std::lock_guard lock(mutex);
  EXPECT_EQ(configs.size(), 1u);
}

TEST_F(XdsClientWireTest, ReconnectsAfterTheServerEndsTheStream) {
  XdsClient client(Options(), nullptr);
  client.Start();
  Expect(kClusterTypeUrl);
  Expect(kListenerTypeUrl);
  server.EndStream(grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away"));
  Expect(kClusterTypeUrl, 2);
  Expect(kListenerTypeUrl, 2);
  EXPECT_EQ(client.Status().last_stream_error, "UNAVAILABLE: going away");
  client.Stop();
  EXPECT_FALSE(client.Status().connected);
}

TEST(XdsClientLifecycle, StopsDuringTheBackoffWaitAndWithoutEverStarting) {
  XdsClientOptions options;
  options.server = "127.0.0.1:1";  // nothing listens there: every stream fails at once
  options.node_id = "sidecar~10.0.0.1~a-1.default~default.svc.cluster.local";
  {
    XdsClient never_started(options, nullptr);
  }
  // A backoff far longer than any test: Stop must wake the client thread from its wait.
  options.backoff_base = std::chrono::hours(1);
  options.backoff_max = std::chrono::hours(1);
  XdsClient client(options, nullptr);
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return !client.Status().last_stream_error.empty(); }));
  client.Stop();
  XdsClientStatus status = client.Status();
  EXPECT_EQ(status.streams, 1u);
  EXPECT_FALSE(status.connected);
  EXPECT_THAT(status.last_stream_error, HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(client.Current(), nullptr);
}

}  // namespace
}  // namespace cmesh::xds_client
