// The incremental (delta) rules of the xDS protocol.
#include "cmesh/xds/delta_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_resources.h"

namespace cmesh::xds {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using namespace cmesh::xds::testing;
using namespace std::chrono_literals;

constexpr ResourceType kLds = ResourceType::kListener, kRds = ResourceType::kRoute,
                       kCds = ResourceType::kCluster, kEds = ResourceType::kEndpoint;

class DeltaStreamTest : public ::testing::Test {
 protected:
  ManualClock clock;
  DeltaStream stream{clock};
  SnapshotPtr ab = MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}});
};

TEST_F(DeltaStreamTest, NodeIsTakenFromTheFirstRequest) {
  auto first = DeltaRequest(kCds, {});
  first.mutable_node()->set_id("first");
  stream.OnRequest(first);
  auto later = DeltaRequest(kLds, {});
  later.mutable_node()->set_id("second");
  stream.OnRequest(later);
  EXPECT_EQ(stream.status().node->id(), "first");
}

TEST_F(DeltaStreamTest, WildcardGetsEveryResourceWithItsOwnVersion) {
  stream.OnSnapshot(ab);
  auto responses = stream.OnRequest(DeltaRequest(kCds, {}));
  ASSERT_THAT(responses, SizeIs(1));
  const DeltaResponse& cds = responses[0];
  EXPECT_EQ(cds.type, kCds);
  EXPECT_EQ(cds.system_version_info, ab->Version(kCds));
  EXPECT_THAT(Names(cds), ElementsAre("a", "b"));
  EXPECT_EQ(cds.resources[0]->version, ab->Find(kCds, "a")->version);
  EXPECT_THAT(cds.removed, IsEmpty());
}

TEST_F(DeltaStreamTest, WildcardOnEmptySnapshotStillGetsAnInitialAnswer) {
  stream.OnSnapshot(std::move(SnapshotBuilder()).Build());
  auto responses = stream.OnRequest(DeltaRequest(kLds, {}));
  ASSERT_THAT(responses, SizeIs(1));
  EXPECT_THAT(responses[0].resources, IsEmpty());
  EXPECT_THAT(stream.OnRequest(DeltaRequest(kLds, {}, {}, responses[0].nonce)), IsEmpty());
}

TEST_F(DeltaStreamTest, OnlyChangedResourcesAreSentAndDeletionsAsRemoved) {
  stream.OnSnapshot(ab);
  stream.OnRequest(DeltaRequest(kCds, {}));
  stream.OnRequest(DeltaRequest(kEds, {"a", "b"}));
  auto push = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.9"}, {"c", "10.0.0.3"}}));
  // Updates first (CDS gains c; EDS a changed, c not subscribed), then removals (CDS b, EDS b).
  ASSERT_THAT(push, SizeIs(4));
  EXPECT_EQ(push[0].type, kCds);
  EXPECT_THAT(Names(push[0]), ElementsAre("c"));
  EXPECT_THAT(push[0].removed, IsEmpty());
  EXPECT_EQ(push[1].type, kEds);
  EXPECT_THAT(Names(push[1]), ElementsAre("a"));
  EXPECT_EQ(push[2].type, kCds);
  EXPECT_THAT(push[2].resources, IsEmpty());
  EXPECT_THAT(push[2].removed, ElementsAre("b"));
  EXPECT_EQ(push[3].type, kEds);
  EXPECT_THAT(push[3].removed, ElementsAre("b"));
}

TEST_F(DeltaStreamTest, UpdatesGoClustersEndpointsListenersRoutesThenRemovalsListenersFirst) {
  stream.OnRequest(DeltaRequest(kRds, {"a-route", "b-route"}));
  stream.OnRequest(DeltaRequest(kLds, {}));
  stream.OnRequest(DeltaRequest(kEds, {"a", "b"}));
  stream.OnRequest(DeltaRequest(kCds, {}));
  auto first = stream.OnSnapshot(ab);
  ASSERT_THAT(first, SizeIs(4));
  EXPECT_EQ(first[0].type, kCds);
  EXPECT_EQ(first[1].type, kEds);
  EXPECT_EQ(first[2].type, kLds);
  EXPECT_EQ(first[3].type, kRds);

  auto removal = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}}));
  ASSERT_THAT(removal, SizeIs(4));
  EXPECT_EQ(removal[0].type, kLds);
  EXPECT_EQ(removal[1].type, kRds);
  EXPECT_EQ(removal[2].type, kCds);
  EXPECT_EQ(removal[3].type, kEds);
  for (const auto& response : removal) EXPECT_THAT(response.resources, IsEmpty());
}

TEST_F(DeltaStreamTest, AckAndNackAreRecordedAgainstTheLatestNonce) {
  stream.OnSnapshot(ab);
  auto cds = stream.OnRequest(DeltaRequest(kCds, {}));
  clock.Advance(40ms);
  stream.OnRequest(DeltaRequest(kCds, {}, {}, cds[0].nonce));
  EXPECT_EQ(stream.status().For(kCds).acked_version, ab->Version(kCds));
  EXPECT_EQ(*stream.status().For(kCds).acked_at - *stream.status().For(kCds).sent_at, 40ms);

  SnapshotPtr next = MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}, {"c", "10.0.0.3"}});
  auto push = stream.OnSnapshot(next);
  ASSERT_THAT(push, SizeIs(1));
  auto nack = DeltaRequest(kCds, {}, {}, push[0].nonce);
  nack.mutable_error_detail()->set_message("cluster c rejected");
  EXPECT_THAT(stream.OnRequest(nack), IsEmpty());  // no re-send of what was rejected
  ASSERT_TRUE(stream.status().last_nack);
  EXPECT_EQ(stream.status().last_nack->message, "cluster c rejected");
  EXPECT_EQ(stream.status().last_nack->rejected_version, next->Version(kCds));
  EXPECT_EQ(stream.status().For(kCds).acked_version, ab->Version(kCds));
  EXPECT_THAT(stream.OnSnapshot(next), IsEmpty());
}

TEST_F(DeltaStreamTest, ANonceIsAckedOnlyOnce) {
  stream.OnSnapshot(ab);
  auto eds = stream.OnRequest(DeltaRequest(kEds, {"a"}));
  ASSERT_THAT(eds, SizeIs(1));
  stream.OnRequest(DeltaRequest(kEds, {}, {}, eds[0].nonce));
  TimePoint acked_at = *stream.status().For(kEds).acked_at;
  clock.Advance(3s);
  auto grown = stream.OnRequest(DeltaRequest(kEds, {"b"}, {}, eds[0].nonce));
  ASSERT_THAT(grown, SizeIs(1));
  EXPECT_EQ(stream.status().For(kEds).acks, 1u);
  EXPECT_THAT(Names(grown[0]), ElementsAre("b"));
  EXPECT_EQ(*stream.status().For(kEds).acked_at, acked_at);
}

TEST_F(DeltaStreamTest, SubscriptionChangesAreHonouredEvenWithAStaleNonce) {
  stream.OnSnapshot(ab);
  auto first = stream.OnRequest(DeltaRequest(kEds, {"a"}));
  ASSERT_THAT(first, SizeIs(1));
  auto update = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.5"}, {"b", "10.0.0.2"}}));
  ASSERT_THAT(update, SizeIs(1));
  // Echoes the first nonce (stale) but subscribes to b: b is sent; no ACK is recorded.
  auto grown = stream.OnRequest(DeltaRequest(kEds, {"b"}, {}, first[0].nonce));
  ASSERT_THAT(grown, SizeIs(1));
  EXPECT_THAT(Names(grown[0]), ElementsAre("b"));
  EXPECT_EQ(stream.status().For(kEds).acks, 0u);
  EXPECT_EQ(stream.status().stale_nonces, 1u);
}

TEST_F(DeltaStreamTest, MissingNamesAreReportedRemovedOnceAndSentWhenTheyAppear) {
  stream.OnSnapshot(ab);
  auto first = stream.OnRequest(DeltaRequest(kRds, {"a-route", "c-route"}));
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_THAT(Names(first[0]), ElementsAre("a-route"));
  EXPECT_THAT(first[0].removed, ElementsAre("c-route"));
  // Still absent: not reported again.
  EXPECT_THAT(stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}})), IsEmpty());
  auto appeared = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}, {"c", "10.0.0.3"}}));
  ASSERT_THAT(appeared, SizeIs(1));
  EXPECT_THAT(Names(appeared[0]), ElementsAre("c-route"));
  // Gone again: reported removed again.
  auto gone = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}}));
  ASSERT_THAT(gone, SizeIs(1));
  EXPECT_THAT(gone[0].removed, ElementsAre("c-route"));
}

TEST_F(DeltaStreamTest, UnsubscribedResourcesAreNeitherUpdatedNorRemoved) {
  stream.OnSnapshot(ab);
  stream.OnRequest(DeltaRequest(kEds, {"a", "b"}));
  EXPECT_THAT(stream.OnRequest(DeltaRequest(kEds, {}, {"b"})), IsEmpty());
  EXPECT_THAT(stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.8"}})), IsEmpty());
  EXPECT_THAT(stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}})), IsEmpty());
  // Subscribing again sends the current version.
  auto back = stream.OnSnapshot(ab);
  EXPECT_THAT(back, IsEmpty());
  auto resubscribed = stream.OnRequest(DeltaRequest(kEds, {"b"}));
  ASSERT_THAT(resubscribed, SizeIs(1));
  EXPECT_THAT(Names(resubscribed[0]), ElementsAre("b"));
}

TEST_F(DeltaStreamTest, ReconnectWithInitialResourceVersionsSendsOnlyDifferences) {
  stream.OnSnapshot(ab);
  auto request = DeltaRequest(kCds, {});
  (*request.mutable_initial_resource_versions())["a"] = ab->Find(kCds, "a")->version;  // current
  (*request.mutable_initial_resource_versions())["b"] = "old-version";
  (*request.mutable_initial_resource_versions())["gone"] = "v1";
  auto responses = stream.OnRequest(request);
  ASSERT_THAT(responses, SizeIs(1));
  EXPECT_THAT(Names(responses[0]), ElementsAre("b"));
  EXPECT_THAT(responses[0].removed, ElementsAre("gone"));
}

TEST_F(DeltaStreamTest, ReconnectWithEverythingCurrentSendsOnlyTheInitialWildcardAnswer) {
  stream.OnSnapshot(ab);
  auto request = DeltaRequest(kCds, {});
  for (const auto& [name, resource] : ab->Resources(kCds)) {
    (*request.mutable_initial_resource_versions())[name] = resource->version;
  }
  auto responses = stream.OnRequest(request);
  ASSERT_THAT(responses, SizeIs(1));
  EXPECT_THAT(responses[0].resources, IsEmpty());
  EXPECT_THAT(responses[0].removed, IsEmpty());
}

TEST_F(DeltaStreamTest, ExplicitStarSubscribesAndUnsubscribesTheWildcard) {
  stream.OnSnapshot(ab);
  auto named = stream.OnRequest(DeltaRequest(kLds, {"a:80"}));
  ASSERT_THAT(named, SizeIs(1));
  EXPECT_THAT(Names(named[0]), ElementsAre("a:80"));
  auto star = stream.OnRequest(DeltaRequest(kLds, {"*"}));
  ASSERT_THAT(star, SizeIs(1));
  EXPECT_THAT(Names(star[0]), ElementsAre("b:80"));  // a:80 is already there
  EXPECT_THAT(stream.OnRequest(DeltaRequest(kLds, {}, {"*"})), IsEmpty());
  EXPECT_FALSE(stream.subscription(kLds).wildcard());
}

TEST_F(DeltaStreamTest, UnknownTypeIsCounted) {
  envoy::service::discovery::v3::DeltaDiscoveryRequest request;
  request.set_type_url("type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig");
  EXPECT_THAT(stream.OnRequest(request), IsEmpty());
  EXPECT_EQ(stream.status().unknown_type_requests, 1u);
}

}  // namespace
}  // namespace cmesh::xds
