// The protocol rules of the ADS client, fed plain DiscoveryResponses: what it requests and in
// which order, what it ACKs and NACKs, and which states it delivers.
#include "cmesh/xds_client/ads_session.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "responses.h"
#include "test_resources.h"

namespace cmesh::xds_client {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace testing;  // cmesh::xds_client::testing
namespace xt = cmesh::xds::testing;

constexpr std::string_view kCds = kClusterTypeUrl, kEds = kEndpointTypeUrl, kLds = kListenerTypeUrl,
                           kRds = kRouteTypeUrl;
const TimePoint kT0 = TimePoint(std::chrono::seconds(100));

envoy::config::core::v3::Node TestNode() {
  envoy::config::core::v3::Node node;
  node.set_id("sidecar~10.0.0.1~app-1.default~default.svc.cluster.local");
  return node;
}

// A validator that refuses one listener name, on top of the default checks.
class RefuseListener final : public DefaultResourceValidator {
 public:
  explicit RefuseListener(std::string name) : name_(std::move(name)) {}
  std::string ValidateListener(const envoy::config::listener::v3::Listener& listener) const override {
    if (listener.name() == name_) return "refused by the test";
    return DefaultResourceValidator::ValidateListener(listener);
  }

 private:
  std::string name_;
};

class AdsSessionTest : public ::testing::Test {
 protected:
  explicit AdsSessionTest(const ResourceValidator* validator = nullptr)
      : session(AdsSession::Options{TestNode(), validator, std::chrono::seconds(15)}) {}

  // Feeds a response; checks the last request is its ACK (version and nonce echoed, no error).
  AdsSession::Outcome Accept(const envoy::service::discovery::v3::DiscoveryResponse& response, TimePoint now = kT0) {
    AdsSession::Outcome outcome = session.OnResponse(response, now);
    EXPECT_FALSE(outcome.requests.empty());
    if (!outcome.requests.empty()) {
      const DiscoveryRequest& ack = outcome.requests.back();
      EXPECT_EQ(ack.type_url(), response.type_url());
      EXPECT_EQ(ack.version_info(), response.version_info());
      EXPECT_EQ(ack.response_nonce(), response.nonce());
      EXPECT_FALSE(ack.has_error_detail()) << ack.error_detail().message();
    }
    return outcome;
  }

  // The mesh of one service: cluster a (EDS), its assignment, listener la → route ra.
  XdsStatePtr LoadOneService() {
    session.StartStream();
    EXPECT_EQ(Accept(Response(std::string(kCds), "c1", "n1", xt::EdsCluster("a"))).config, nullptr);
    EXPECT_EQ(Accept(Response(std::string(kEds), "e1", "n2", xt::Assignment("a", {"10.0.0.1"}))).config, nullptr);
    EXPECT_EQ(Accept(Response(std::string(kLds), "l1", "n3", xt::Listener("la", "ra"))).config, nullptr);
    return Accept(Response(std::string(kRds), "r1", "n4", xt::Route("ra", "a"))).config;
  }

  AdsSession session;
};

TEST_F(AdsSessionTest, OpensWithWildcardCdsThenLdsAndTheNodeInTheFirstRequestOnly) {
  std::vector<DiscoveryRequest> requests = session.StartStream();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].type_url(), kCds);
  EXPECT_EQ(requests[1].type_url(), kLds);
  EXPECT_EQ(requests[0].node().id(), TestNode().id());
  EXPECT_FALSE(requests[1].has_node());
  for (const DiscoveryRequest& request : requests) {
    EXPECT_THAT(request.resource_names(), IsEmpty());  // the legacy wildcard
    EXPECT_EQ(request.version_info(), "");
    EXPECT_EQ(request.response_nonce(), "");
  }
}

TEST_F(AdsSessionTest, ClustersSubscribeEdsByServiceNameBeforeTheirAck) {
  session.StartStream();
  auto named = xt::EdsCluster("b");
  named.mutable_eds_cluster_config()->set_service_name("b-endpoints");
  envoy::config::cluster::v3::Cluster static_cluster;
  static_cluster.set_name("s");
  static_cluster.set_type(envoy::config::cluster::v3::Cluster::STATIC);
  AdsSession::Outcome outcome = Accept(Response(std::string(kCds), "c1", "n1", xt::EdsCluster("a"), named, static_cluster));
  ASSERT_EQ(outcome.requests.size(), 2u);
  const DiscoveryRequest& eds = outcome.requests[0];
  EXPECT_EQ(eds.type_url(), kEds);
  EXPECT_THAT(NamesOf(eds), ElementsAre("a", "b-endpoints"));
  EXPECT_EQ(eds.version_info(), "");
  EXPECT_EQ(eds.response_nonce(), "");
  EXPECT_THAT(outcome.requests[1].resource_names(), IsEmpty());  // the CDS ACK stays wildcard
  EXPECT_THAT(session.subscribed_names(XdsType::kEndpoint), ElementsAre("a", "b-endpoints"));
}

TEST_F(AdsSessionTest, ListenersSubscribeRdsFromEveryChainTheDefaultChainAndTheApiListener) {
  session.StartStream();
  auto sidecar = ChainListener("0.0.0.0_80", {"80", "8080"});
  // A chain with a TCP proxy and an HCM with inline routes: nothing to load over RDS.
  auto* tcp = sidecar.add_filter_chains()->add_filters();
  tcp->set_name("envoy.filters.network.tcp_proxy");
  HttpConnectionManager inline_routes;
  inline_routes.mutable_route_config()->set_name("inline");
  *sidecar.add_filter_chains()->add_filters()->mutable_typed_config() = Pack(inline_routes);
  auto* fallback = sidecar.mutable_default_filter_chain()->add_filters();
  *fallback->mutable_typed_config() = Pack(RdsHcm("default-route"));
  AdsSession::Outcome outcome =
      Accept(Response(std::string(kLds), "l1", "n1", sidecar, xt::Listener("api", "api-route")));
  ASSERT_EQ(outcome.requests.size(), 2u);
  EXPECT_EQ(outcome.requests[0].type_url(), kRds);
  EXPECT_THAT(NamesOf(outcome.requests[0]), ElementsAre("80", "8080", "api-route", "default-route"));
  EXPECT_EQ(outcome.requests[1].type_url(), kLds);
}

TEST_F(AdsSessionTest, FirstStateWaitsForEveryTypeAndReferencedName) {
  XdsStatePtr state = LoadOneService();
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(state->generation, 1u);
  EXPECT_TRUE(state->complete());
  EXPECT_EQ(state->clusters.size(), 1u);
  ASSERT_TRUE(state->endpoints.contains("a"));
  EXPECT_EQ(state->endpoints.at("a").Decode().endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address(),
            "10.0.0.1");
  EXPECT_TRUE(state->listeners.contains("la"));
  EXPECT_TRUE(state->routes.contains("ra"));
  EXPECT_EQ(state->version(XdsType::kCluster), "c1");
  EXPECT_EQ(state->version(XdsType::kEndpoint), "e1");
  EXPECT_EQ(state->version(XdsType::kListener), "l1");
  EXPECT_EQ(state->version(XdsType::kRoute), "r1");
  EXPECT_EQ(session.delivered(), state);
}

TEST_F(AdsSessionTest, TheStateKeepsTheBytesReceivedAndDecodesThemToWhatWasSent) {
  auto cluster = xt::EdsCluster("a");
  auto assignment = xt::Assignment("a", {"10.0.0.1"});
  auto listener = xt::Listener("la", "ra");
  auto route = xt::Route("ra", "a");
  session.StartStream();
  Accept(Response(std::string(kCds), "c1", "n1", cluster));
  Accept(Response(std::string(kEds), "e1", "n2", assignment));
  Accept(Response(std::string(kLds), "l1", "n3", listener));
  XdsStatePtr state = Accept(Response(std::string(kRds), "r1", "n4", route)).config;
  ASSERT_NE(state, nullptr);
  // No decoded copy is held: each resource is its bytes as received, decoded on demand (for
  // the snapshot builder and /config_dump).
  EXPECT_EQ(state->clusters.at("a").bytes(), cluster.SerializeAsString());
  EXPECT_EQ(state->routes.at("ra").bytes(), route.SerializeAsString());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(state->clusters.at("a").Decode(), cluster));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(state->endpoints.at("a").Decode(), assignment));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(state->listeners.at("la").Decode(), listener));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(state->routes.at("ra").Decode(), route));
  EXPECT_EQ(XdsState::EdsServiceName("a", state->clusters.at("a")), "a");

  // The same bytes again under a new version: the same record. New bytes: a new one.
  auto moved = xt::Assignment("a", {"10.0.0.2"});
  XdsStatePtr same = Accept(Response(std::string(kEds), "e2", "n5", assignment)).config;
  ASSERT_NE(same, nullptr);  // the version changed
  EXPECT_EQ(same->endpoints.at("a"), state->endpoints.at("a"));
  XdsStatePtr changed = Accept(Response(std::string(kEds), "e3", "n6", moved)).config;
  ASSERT_NE(changed, nullptr);
  EXPECT_FALSE(changed->endpoints.at("a") == state->endpoints.at("a"));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(changed->endpoints.at("a").Decode(), moved));
  EXPECT_EQ(changed->clusters.at("a"), state->clusters.at("a"));
  // Delivered states are immutable: the change went into a copy of the endpoints map...
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(state->endpoints.at("a").Decode(), assignment));
  // ...while the maps of the types that did not change are shared, not copied.
  EXPECT_EQ(&*changed->clusters.begin(), &*state->clusters.begin());
  EXPECT_EQ(&*changed->routes.begin(), &*state->routes.begin());
  EXPECT_NE(&*changed->endpoints.begin(), &*state->endpoints.begin());
}

TEST_F(AdsSessionTest, ChangeIsHeldUntilTheNamesItAddsArrive) {
  XdsStatePtr first = LoadOneService();
  ASSERT_NE(first, nullptr);
  // Cluster b appears: its endpoints are not here yet, so the proxy keeps the old state.
  AdsSession::Outcome cds = Accept(Response(std::string(kCds), "c2", "n5", xt::EdsCluster("a"), xt::EdsCluster("b")));
  EXPECT_EQ(cds.config, nullptr);
  ASSERT_EQ(cds.requests.size(), 2u);
  EXPECT_THAT(NamesOf(cds.requests[0]), ElementsAre("a", "b"));
  // The subscription change echoes the latest EDS nonce and version, or the server would ignore it.
  EXPECT_EQ(cds.requests[0].response_nonce(), "n2");
  EXPECT_EQ(cds.requests[0].version_info(), "e1");
  // A listener for b whose route is not here yet either.
  EXPECT_EQ(Accept(Response(std::string(kLds), "l2", "n6", xt::Listener("la", "ra"), xt::Listener("lb", "rb"))).config,
            nullptr);
  EXPECT_EQ(Accept(Response(std::string(kEds), "e2", "n7", xt::Assignment("b", {"10.0.0.2"}))).config, nullptr);
  XdsStatePtr second = Accept(Response(std::string(kRds), "r2", "n8", xt::Route("rb", "b"))).config;
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->complete());
  EXPECT_EQ(second->generation, 2u);
  EXPECT_EQ(second->clusters.size(), 2u);
  EXPECT_EQ(second->endpoints.size(), 2u);
  // EDS and RDS arrive one by one: a response without ra does not remove it.
  EXPECT_TRUE(second->routes.contains("ra"));
  EXPECT_TRUE(second->routes.contains("rb"));
  // Unchanged resources are the same objects as before.
  EXPECT_EQ(second->clusters.at("a"), first->clusters.at("a"));
  EXPECT_EQ(second->routes.at("ra"), first->routes.at("ra"));
}

TEST_F(AdsSessionTest, FirstStateComesWithHolesOnceEveryTypeWasAnsweredButLaterOnesAddNone) {
  session.StartStream();
  Accept(Response(std::string(kCds), "c1", "n1", xt::EdsCluster("a"), xt::EdsCluster("b")));
  Accept(Response(std::string(kEds), "e1", "n2", xt::Assignment("a", {"10.0.0.1"})));
  Accept(Response(std::string(kLds), "l1", "n3", xt::Listener("la", "ra")));
  XdsStatePtr first = Accept(Response(std::string(kRds), "r1", "n4", xt::Route("ra", "a"))).config;
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(first->missing, ElementsAre("EDS b"));

  // A change that keeps the old hole and adds no new one goes through.
  XdsStatePtr second =
      Accept(Response(std::string(kLds), "l2", "n5", xt::Listener("la", "ra"), xt::Listener("la2", "ra"))).config;
  ASSERT_NE(second, nullptr);
  EXPECT_THAT(second->missing, ElementsAre("EDS b"));
  EXPECT_EQ(second->listeners.size(), 2u);
  // One that adds a hole waits.
  EXPECT_EQ(Accept(Response(std::string(kLds), "l3", "n6", xt::Listener("la", "ra"), xt::Listener("lc", "rc"))).config,
            nullptr);
}

TEST_F(AdsSessionTest, NoStateBeforeEveryTypeIsAnsweredUnlessTheWarmingTimeoutPasses) {
  session.StartStream();
  Accept(Response(std::string(kCds), "c1", "n1", xt::EdsCluster("a")));
  Accept(Response(std::string(kLds), "l1", "n2", xt::Listener("la", "ra")));
  // EDS answered but RDS never: nothing yet, and a deadline 15 s after the names were wanted.
  EXPECT_EQ(Accept(Response(std::string(kEds), "e1", "n3", xt::Assignment("a", {"10.0.0.1"}))).config, nullptr);
  ASSERT_TRUE(session.NextDeadline().has_value());
  EXPECT_EQ(*session.NextDeadline(), kT0 + std::chrono::seconds(15));
  EXPECT_EQ(session.OnTimer(kT0 + std::chrono::seconds(14)), nullptr);
  XdsStatePtr state = session.OnTimer(kT0 + std::chrono::seconds(15));
  ASSERT_NE(state, nullptr);
  EXPECT_THAT(state->missing, ElementsAre("RDS ra"));
  EXPECT_FALSE(session.NextDeadline().has_value());
}

TEST_F(AdsSessionTest, HeldChangeIsDeliveredWithItsHoleAfterTheWarmingTimeout) {
  ASSERT_NE(LoadOneService(), nullptr);
  const TimePoint t1 = kT0 + std::chrono::seconds(60);
  EXPECT_EQ(Accept(Response(std::string(kCds), "c2", "n5", xt::EdsCluster("a"), xt::EdsCluster("c")), t1).config,
            nullptr);
  ASSERT_TRUE(session.NextDeadline().has_value());
  EXPECT_EQ(*session.NextDeadline(), t1 + std::chrono::seconds(15));
  EXPECT_EQ(session.OnTimer(t1 + std::chrono::seconds(10)), nullptr);
  XdsStatePtr state = session.OnTimer(t1 + std::chrono::seconds(15));
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(state->clusters.contains("c"));
  EXPECT_THAT(state->missing, ElementsAre("EDS c"));
}

TEST_F(AdsSessionTest, SubscriptionsShrinkWithTheirReferencesAndTakeTheirResourcesAlong) {
  session.StartStream();
  Accept(Response(std::string(kCds), "c1", "n1", xt::EdsCluster("a"), xt::EdsCluster("b")));
  Accept(Response(std::string(kEds), "e1", "n2", xt::Assignment("a", {"10.0.0.1"}), xt::Assignment("b", {"10.0.0.2"})));
  Accept(Response(std::string(kLds), "l1", "n3", xt::Listener("la", "ra"), xt::Listener("lb", "rb")));
  ASSERT_NE(Accept(Response(std::string(kRds), "r1", "n4", xt::Route("ra", "a"), xt::Route("rb", "b"))).config, nullptr);

  // Listener lb goes: RDS shrinks to ra, and the state loses lb and rb at once (no hole).
  AdsSession::Outcome lds = Accept(Response(std::string(kLds), "l2", "n5", xt::Listener("la", "ra")));
  ASSERT_EQ(lds.requests.size(), 2u);
  EXPECT_EQ(lds.requests[0].type_url(), kRds);
  EXPECT_THAT(NamesOf(lds.requests[0]), ElementsAre("ra"));
  EXPECT_EQ(lds.requests[0].response_nonce(), "n4");
  ASSERT_NE(lds.config, nullptr);
  EXPECT_FALSE(lds.config->listeners.contains("lb"));
  EXPECT_FALSE(lds.config->routes.contains("rb"));
  EXPECT_TRUE(lds.config->routes.contains("ra"));

  // Cluster b goes, then every EDS cluster: the last EDS request names nothing (unsubscribe all).
  AdsSession::Outcome cds = Accept(Response(std::string(kCds), "c2", "n6", xt::EdsCluster("a")));
  ASSERT_EQ(cds.requests.size(), 2u);
  EXPECT_THAT(NamesOf(cds.requests[0]), ElementsAre("a"));
  ASSERT_NE(cds.config, nullptr);
  EXPECT_FALSE(cds.config->endpoints.contains("b"));
  envoy::config::cluster::v3::Cluster static_cluster;
  static_cluster.set_name("s");
  AdsSession::Outcome none = Accept(Response(std::string(kCds), "c3", "n7", static_cluster));
  ASSERT_EQ(none.requests.size(), 2u);
  EXPECT_EQ(none.requests[0].type_url(), kEds);
  EXPECT_THAT(none.requests[0].resource_names(), IsEmpty());
  ASSERT_NE(none.config, nullptr);
  EXPECT_THAT(none.config->endpoints, IsEmpty());
  EXPECT_EQ(session.type_status(XdsType::kEndpoint).subscribed, 0u);
}

TEST_F(AdsSessionTest, AnEmptyEdsSubscriptionIsNotSentOnAStreamThatNeverNamedOne) {
  session.StartStream();
  envoy::config::cluster::v3::Cluster static_cluster;
  static_cluster.set_name("s");
  AdsSession::Outcome outcome = Accept(Response(std::string(kCds), "c1", "n1", static_cluster));
  // An empty EDS list here would read as a wildcard request: only the ACK goes out.
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].type_url(), kCds);
}

TEST_F(AdsSessionTest, ANewStreamResendsTheSubscriptionsWithTheAcceptedVersions) {
  XdsStatePtr state = LoadOneService();
  ASSERT_NE(state, nullptr);
  std::vector<DiscoveryRequest> requests = session.StartStream();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].type_url(), kCds);
  EXPECT_EQ(requests[0].version_info(), "c1");
  EXPECT_EQ(requests[0].node().id(), TestNode().id());
  EXPECT_EQ(requests[1].type_url(), kEds);
  EXPECT_EQ(requests[1].version_info(), "e1");
  EXPECT_THAT(NamesOf(requests[1]), ElementsAre("a"));
  EXPECT_FALSE(requests[1].has_node());
  EXPECT_EQ(requests[2].type_url(), kLds);
  EXPECT_EQ(requests[2].version_info(), "l1");
  EXPECT_EQ(requests[3].type_url(), kRds);
  EXPECT_THAT(NamesOf(requests[3]), ElementsAre("ra"));
  for (const DiscoveryRequest& request : requests) EXPECT_EQ(request.response_nonce(), "") << request.type_url();

  // The restarted server sends the same resources again: ACKed, and no new state.
  EXPECT_EQ(Accept(Response(std::string(kCds), "c1", "m1", xt::EdsCluster("a"))).config, nullptr);
  EXPECT_EQ(Accept(Response(std::string(kEds), "e1", "m2", xt::Assignment("a", {"10.0.0.1"}))).config, nullptr);
  EXPECT_EQ(Accept(Response(std::string(kLds), "l1", "m3", xt::Listener("la", "ra"))).config, nullptr);
  EXPECT_EQ(Accept(Response(std::string(kRds), "r1", "m4", xt::Route("ra", "a"))).config, nullptr);
  EXPECT_EQ(session.delivered(), state);
}

TEST_F(AdsSessionTest, UnsubscribedEdsResourcesAreNotKeptAndUnknownTypesAreIgnored) {
  ASSERT_NE(LoadOneService(), nullptr);
  AdsSession::Outcome eds = Accept(Response(std::string(kEds), "e2", "n5", xt::Assignment("zz", {"10.0.0.9"})));
  // Only the version moved: delivered with nothing new in it.
  ASSERT_NE(eds.config, nullptr);
  EXPECT_FALSE(eds.config->endpoints.contains("zz"));
  EXPECT_EQ(eds.config->version(XdsType::kEndpoint), "e2");

  envoy::service::discovery::v3::DiscoveryResponse secrets;
  secrets.set_type_url("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret");
  secrets.set_nonce("n6");
  AdsSession::Outcome ignored = session.OnResponse(secrets, kT0);
  EXPECT_THAT(ignored.requests, IsEmpty());
  EXPECT_EQ(ignored.config, nullptr);
  EXPECT_EQ(session.ignored_responses(), 1u);
}

class NackTest : public AdsSessionTest {
 protected:
  NackTest() : AdsSessionTest(&validator) {}
  static inline RefuseListener validator{"evil"};
};

TEST_F(NackTest, OneBadResourceNacksTheWholeResponseWithThePreviousVersionAndKeepsTheState) {
  XdsStatePtr first = LoadOneService();
  ASSERT_NE(first, nullptr);
  AdsSession::Outcome outcome = session.OnResponse(
      Response(std::string(kLds), "l2", "n5", xt::Listener("la", "ra2"), xt::Listener("evil", "re")), kT0);
  // Only the NACK: the good listener's new route name was not subscribed to.
  ASSERT_EQ(outcome.requests.size(), 1u);
  const DiscoveryRequest& nack = outcome.requests[0];
  EXPECT_EQ(nack.type_url(), kLds);
  EXPECT_EQ(nack.version_info(), "l1");
  EXPECT_EQ(nack.response_nonce(), "n5");
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_EQ(nack.error_detail().code(), 3);  // INVALID_ARGUMENT
  EXPECT_THAT(nack.error_detail().message(), HasSubstr("Listener \"evil\": refused by the test"));
  EXPECT_EQ(outcome.config, nullptr);
  EXPECT_THAT(session.subscribed_names(XdsType::kRoute), ElementsAre("ra"));
  EXPECT_EQ(session.type_status(XdsType::kListener).version, "l1");
  EXPECT_EQ(session.type_status(XdsType::kListener).nacks, 1u);
  ASSERT_TRUE(session.last_nack().has_value());
  EXPECT_EQ(session.last_nack()->type, XdsType::kListener);
  EXPECT_EQ(session.last_nack()->rejected_version, "l2");
  EXPECT_EQ(session.delivered(), first);

  // The other types are unaffected, and the next good version is accepted.
  EXPECT_NE(Accept(Response(std::string(kEds), "e2", "n6", xt::Assignment("a", {"10.0.0.7"}))).config, nullptr);
  AdsSession::Outcome fixed = Accept(Response(std::string(kLds), "l3", "n7", xt::Listener("la", "ra2")));
  ASSERT_EQ(fixed.requests.size(), 2u);
  EXPECT_THAT(NamesOf(fixed.requests[0]), ElementsAre("ra2"));
  EXPECT_EQ(fixed.config, nullptr);  // waits for ra2
  XdsStatePtr last = Accept(Response(std::string(kRds), "r2", "n8", xt::Route("ra2", "a"))).config;
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->version(XdsType::kListener), "l3");
  EXPECT_FALSE(last->routes.contains("ra"));
  EXPECT_EQ(session.type_status(XdsType::kListener).acks, 2u);
}

// What the client rejects before any validator runs, and what the default validator rejects.
struct BadResponseCase {
  std::string label;
  envoy::service::discovery::v3::DiscoveryResponse response;
  std::string message;  // a part of the NACK's error_detail
};

void PrintTo(const BadResponseCase& c, std::ostream* os) { *os << c.label; }

std::vector<BadResponseCase> BadResponses() {
  std::vector<BadResponseCase> cases;
  {
    auto response = Response(std::string(kCds), "c9", "x1", xt::EdsCluster("a"));
    response.mutable_resources(0)->set_type_url(std::string(kLds));
    cases.push_back({"WrongTypeUrl", response, "Cluster #0: type URL " + std::string(kLds)});
  }
  {
    auto response = Response(std::string(kCds), "c9", "x1", xt::EdsCluster("a"));
    response.mutable_resources(0)->set_value("\xff\xff\xff");
    cases.push_back({"Undecodable", response, "Cluster #0: does not decode"});
  }
  cases.push_back({"DuplicateName",
                   Response(std::string(kCds), "c9", "x1", xt::EdsCluster("a"), xt::EdsCluster("a")),
                   "Cluster \"a\": duplicate name"});
  cases.push_back({"MissingName", Response(std::string(kCds), "c9", "x1", envoy::config::cluster::v3::Cluster()),
                   "Cluster #0: missing name"});
  {
    envoy::config::listener::v3::Listener listener;
    listener.set_name("no-routes");
    *listener.add_filter_chains()->add_filters()->mutable_typed_config() = Pack(HttpConnectionManager());
    cases.push_back({"HcmWithoutRoutes", Response(std::string(kLds), "l9", "x1", listener),
                     "Listener \"no-routes\": http_connection_manager has neither rds nor route_config"});
  }
  {
    auto listener = ChainListener("garbled", {"r"});
    listener.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->set_value("\xff\xff");
    cases.push_back({"UndecodableHcm", Response(std::string(kLds), "l9", "x1", listener),
                     "Listener \"garbled\": http_connection_manager typed_config does not decode"});
  }
  cases.push_back({"AssignmentWithoutName",
                   Response(std::string(kEds), "e9", "x1", envoy::config::endpoint::v3::ClusterLoadAssignment()),
                   "ClusterLoadAssignment #0: missing cluster_name"});
  cases.push_back({"RouteWithoutName",
                   Response(std::string(kRds), "r9", "x1", envoy::config::route::v3::RouteConfiguration()),
                   "RouteConfiguration #0: missing name"});
  return cases;
}

class BadResponseTest : public ::testing::TestWithParam<BadResponseCase> {};

TEST_P(BadResponseTest, IsNackedAndChangesNothing) {
  AdsSession session(AdsSession::Options{TestNode(), nullptr, std::chrono::seconds(15)});
  session.StartStream();
  AdsSession::Outcome outcome = session.OnResponse(GetParam().response, kT0);
  ASSERT_EQ(outcome.requests.size(), 1u);
  ASSERT_TRUE(outcome.requests[0].has_error_detail());
  EXPECT_THAT(outcome.requests[0].error_detail().message(), HasSubstr(GetParam().message));
  EXPECT_EQ(outcome.requests[0].version_info(), "");
  EXPECT_EQ(outcome.requests[0].response_nonce(), "x1");
  XdsType type = *TypeFromUrl(GetParam().response.type_url());
  EXPECT_EQ(session.type_status(type).resources, 0u);
  EXPECT_EQ(session.type_status(type).nacks, 1u);
  EXPECT_THAT(session.subscribed_names(XdsType::kEndpoint), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(AdsSession, BadResponseTest, ::testing::ValuesIn(BadResponses()),
                         [](const auto& info) { return info.param.label; });

}  // namespace
}  // namespace cmesh::xds_client
