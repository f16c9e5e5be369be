// The state-of-the-world rules of the xDS protocol, one test (or a few) per rule.
#include "cmesh/xds/sotw_stream.h"

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

struct RecordingCallbacks : StreamCallbacks {
  void OnAck(const StreamStatus&, ResourceType type, const std::string& version, TimePoint at) override {
    acks.push_back({type, version, at});
  }
  void OnNack(const StreamStatus&, const NackRecord& nack) override { nacks.push_back(nack); }
  struct Ack {
    ResourceType type;
    std::string version;
    TimePoint at;
  };
  std::vector<Ack> acks;
  std::vector<NackRecord> nacks;
};

class SotwStreamTest : public ::testing::Test {
 protected:
  ManualClock clock;
  RecordingCallbacks callbacks;
  SotwStream stream{clock, &callbacks};
  SnapshotPtr ab = MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}});
};

TEST_F(SotwStreamTest, NodeIsTakenFromTheFirstRequest) {
  auto first = Request(kLds, {});
  first.mutable_node()->set_id("sidecar~10.0.0.1~a.default~default.svc.cluster.local");
  stream.OnRequest(first);
  auto later = Request(kCds, {});
  later.mutable_node()->set_id("someone-else");
  stream.OnRequest(later);
  ASSERT_TRUE(stream.status().node.has_value());
  EXPECT_EQ(stream.status().node->id(), "sidecar~10.0.0.1~a.default~default.svc.cluster.local");
}

TEST_F(SotwStreamTest, UnknownTypeIsCountedAndNotAnswered) {
  stream.OnSnapshot(ab);
  envoy::service::discovery::v3::DiscoveryRequest request;
  request.set_type_url("type.googleapis.com/envoy.config.listener.v2.Listener");
  EXPECT_THAT(stream.OnRequest(request), IsEmpty());
  EXPECT_EQ(stream.status().unknown_type_requests, 1u);
}

TEST_F(SotwStreamTest, RequestBeforeAnySnapshotIsAnsweredWhenTheSnapshotArrives) {
  EXPECT_THAT(stream.OnRequest(Request(kLds, {})), IsEmpty());
  auto responses = stream.OnSnapshot(ab);
  ASSERT_THAT(responses, SizeIs(1));
  EXPECT_EQ(responses[0].type, kLds);
  EXPECT_EQ(responses[0].version_info, ab->Version(kLds));
  EXPECT_THAT(Names(responses[0]), ElementsAre("a:80", "b:80"));
}

TEST_F(SotwStreamTest, TypesNeverRequestedAreNeverPushed) {
  stream.OnRequest(Request(kCds, {}));
  auto responses = stream.OnSnapshot(ab);
  ASSERT_THAT(responses, SizeIs(1));
  EXPECT_EQ(responses[0].type, kCds);
}

TEST_F(SotwStreamTest, EveryResponseHasAFreshNonce) {
  stream.OnSnapshot(ab);
  auto cds = stream.OnRequest(Request(kCds, {}));
  auto lds = stream.OnRequest(Request(kLds, {}));
  auto eds = stream.OnRequest(Request(kEds, {"a"}));
  ASSERT_THAT(cds, SizeIs(1));
  ASSERT_THAT(lds, SizeIs(1));
  ASSERT_THAT(eds, SizeIs(1));
  EXPECT_NE(cds[0].nonce, lds[0].nonce);
  EXPECT_NE(lds[0].nonce, eds[0].nonce);
  EXPECT_NE(cds[0].nonce, eds[0].nonce);
  EXPECT_FALSE(cds[0].nonce.empty());
}

TEST_F(SotwStreamTest, AckRecordsTheSentVersionAndTimeThroughTheInjectedClock) {
  stream.OnSnapshot(ab);
  auto lds = stream.OnRequest(Request(kLds, {}));
  ASSERT_THAT(lds, SizeIs(1));
  clock.Advance(250ms);
  EXPECT_THAT(stream.OnRequest(Request(kLds, {}, lds[0].nonce, lds[0].version_info)), IsEmpty());
  const TypeStatus& status = stream.status().For(kLds);
  EXPECT_EQ(status.acked_version, ab->Version(kLds));
  EXPECT_EQ(status.acks, 1u);
  ASSERT_TRUE(status.acked_at && status.sent_at);
  EXPECT_EQ(*status.acked_at - *status.sent_at, 250ms);
  ASSERT_THAT(callbacks.acks, SizeIs(1));
  EXPECT_EQ(callbacks.acks[0].type, kLds);
  EXPECT_EQ(callbacks.acks[0].version, ab->Version(kLds));
}

TEST_F(SotwStreamTest, ANonceIsAckedOnlyOnceEvenIfEchoedAgain) {
  stream.OnSnapshot(ab);
  auto rds = stream.OnRequest(Request(kRds, {"a-route"}));
  ASSERT_THAT(rds, SizeIs(1));
  stream.OnRequest(Request(kRds, {"a-route"}, rds[0].nonce));  // the ACK
  TimePoint acked_at = *stream.status().For(kRds).acked_at;
  clock.Advance(5s);
  // A new channel adds a route before any new RDS response: same nonce, grown subscription.
  auto grown = stream.OnRequest(Request(kRds, {"a-route", "b-route"}, rds[0].nonce));
  ASSERT_THAT(grown, SizeIs(1));
  EXPECT_THAT(Names(grown[0]), ElementsAre("b-route"));
  EXPECT_EQ(stream.status().For(kRds).acks, 1u);
  EXPECT_EQ(*stream.status().For(kRds).acked_at, acked_at);
  EXPECT_THAT(callbacks.acks, SizeIs(1));
}

TEST_F(SotwStreamTest, VersionsAreTrackedPerType) {
  stream.OnSnapshot(ab);
  auto cds = stream.OnRequest(Request(kCds, {}));
  auto lds = stream.OnRequest(Request(kLds, {}));
  stream.OnRequest(Request(kCds, {}, cds[0].nonce, cds[0].version_info));
  EXPECT_EQ(stream.status().For(kCds).acked_version, ab->Version(kCds));
  EXPECT_EQ(stream.status().For(kLds).acked_version, "");  // LDS not ACKed yet
  EXPECT_EQ(stream.status().For(kLds).sent_version, ab->Version(kLds));
  EXPECT_NE(ab->Version(kCds), ab->Version(kLds));
}

TEST_F(SotwStreamTest, NackIsDetectedByErrorDetailEvenWhenItCarriesTheNewVersion) {
  stream.OnSnapshot(ab);
  auto first = stream.OnRequest(Request(kCds, {}));
  stream.OnRequest(Request(kCds, {}, first[0].nonce, first[0].version_info));  // ACK v1

  SnapshotPtr changed = MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}, {"c", "10.0.0.3"}});
  auto push = stream.OnSnapshot(changed);
  ASSERT_THAT(push, SizeIs(1));
  clock.Advance(10ms);
  // gRPC keeps the valid part of a response and so reports the new version in its NACK.
  auto nack = Nack(kCds, {}, push[0].nonce, "cluster c: unsupported lb_policy");
  nack.set_version_info(push[0].version_info);
  EXPECT_THAT(stream.OnRequest(nack), IsEmpty());  // never re-send the rejected version

  const StreamStatus& status = stream.status();
  ASSERT_TRUE(status.last_nack.has_value());
  EXPECT_EQ(status.last_nack->type, kCds);
  EXPECT_EQ(status.last_nack->rejected_version, changed->Version(kCds));
  EXPECT_EQ(status.last_nack->message, "cluster c: unsupported lb_policy");
  EXPECT_EQ(status.last_nack->at, clock.Now());
  EXPECT_EQ(status.For(kCds).nacks, 1u);
  EXPECT_EQ(status.For(kCds).acked_version, ab->Version(kCds));  // still the old one
  ASSERT_THAT(callbacks.nacks, SizeIs(1));
  EXPECT_EQ(callbacks.nacks[0].message, "cluster c: unsupported lb_policy");

  // The same snapshot again (e.g. an unrelated group recompile) does not re-send it either.
  EXPECT_THAT(stream.OnSnapshot(changed), IsEmpty());
  // A fixed config is sent.
  auto fixed = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}}));
  ASSERT_THAT(fixed, SizeIs(1));
  EXPECT_THAT(Names(fixed[0]), ElementsAre("a", "b"));
}

TEST_F(SotwStreamTest, StaleNonceIsIgnored) {
  stream.OnSnapshot(ab);
  auto first = stream.OnRequest(Request(kRds, {"a-route"}));
  ASSERT_THAT(first, SizeIs(1));
  SnapshotBuilder builder;
  builder.Add(MakeResource(Route("a-route", "b")));
  builder.Add(MakeResource(Route("b-route", "b")));
  auto changed = stream.OnSnapshot(std::move(builder).Build());
  ASSERT_THAT(changed, SizeIs(1));
  ASSERT_NE(changed[0].nonce, first[0].nonce);

  // Written before the client saw `changed`: its names must not change the subscription, and it
  // is neither an ACK nor a NACK.
  EXPECT_THAT(stream.OnRequest(Request(kRds, {"a-route", "b-route"}, first[0].nonce)), IsEmpty());
  EXPECT_THAT(stream.OnRequest(Nack(kRds, {"a-route"}, first[0].nonce, "old")), IsEmpty());
  EXPECT_EQ(stream.status().stale_nonces, 2u);
  EXPECT_THAT(stream.subscription(kRds).names(), ElementsAre("a-route"));
  EXPECT_EQ(stream.status().For(kRds).acks, 0u);
  EXPECT_FALSE(stream.status().last_nack.has_value());

  // The current nonce is honoured, subscription growth included.
  auto grown = stream.OnRequest(Request(kRds, {"a-route", "b-route"}, changed[0].nonce));
  ASSERT_THAT(grown, SizeIs(1));
  EXPECT_THAT(Names(grown[0]), ElementsAre("b-route"));
}

TEST_F(SotwStreamTest, ListenersAndClustersAlwaysCarryTheFullSet) {
  stream.OnSnapshot(ab);
  auto lds = stream.OnRequest(Request(kLds, {}));
  auto cds = stream.OnRequest(Request(kCds, {}));
  // Only a's endpoint address changes: neither LDS nor CDS content changes, so neither is sent.
  EXPECT_THAT(stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.9"}, {"b", "10.0.0.2"}})), IsEmpty());
  // A third service: both full-state types are sent whole, not just the new member.
  auto push = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.9"}, {"b", "10.0.0.2"}, {"c", "10.0.0.3"}}));
  ASSERT_THAT(push, SizeIs(2));
  EXPECT_EQ(push[0].type, kCds);
  EXPECT_THAT(Names(push[0]), ElementsAre("a", "b", "c"));
  EXPECT_EQ(push[1].type, kLds);
  EXPECT_THAT(Names(push[1]), ElementsAre("a:80", "b:80", "c:80"));
  // A deletion is a full set without the member.
  auto shrunk = stream.OnSnapshot(MeshSnapshot({{"c", "10.0.0.3"}}));
  ASSERT_THAT(shrunk, SizeIs(2));
  EXPECT_THAT(Names(shrunk[0]), ElementsAre("c"));
  EXPECT_THAT(Names(shrunk[1]), ElementsAre("c:80"));
}

TEST_F(SotwStreamTest, RoutesAndEndpointsAreSentPerChangedResource) {
  stream.OnSnapshot(ab);
  auto eds = stream.OnRequest(Request(kEds, {"a", "b"}));
  ASSERT_THAT(eds, SizeIs(1));
  EXPECT_THAT(Names(eds[0]), ElementsAre("a", "b"));
  auto push = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.7"}}));
  ASSERT_THAT(push, SizeIs(1));
  EXPECT_EQ(push[0].type, kEds);
  EXPECT_THAT(Names(push[0]), ElementsAre("b"));
}

TEST_F(SotwStreamTest, OnlyRequestedResourcesAreSent) {
  stream.OnSnapshot(ab);
  auto lds = stream.OnRequest(Request(kLds, {"b:80", "zzz:80"}));
  ASSERT_THAT(lds, SizeIs(1));
  EXPECT_THAT(Names(lds[0]), ElementsAre("b:80"));
  auto rds = stream.OnRequest(Request(kRds, {"a-route"}));
  ASSERT_THAT(rds, SizeIs(1));
  EXPECT_THAT(Names(rds[0]), ElementsAre("a-route"));
}

TEST_F(SotwStreamTest, MissingRequestedNamesAreSentWhenTheyAppear) {
  stream.OnSnapshot(ab);
  EXPECT_THAT(stream.OnRequest(Request(kRds, {"c-route"})), IsEmpty());
  EXPECT_THAT(stream.OnRequest(Request(kEds, {"c"})), IsEmpty());
  auto lds = stream.OnRequest(Request(kLds, {"c:80"}));
  ASSERT_THAT(lds, SizeIs(1));  // LDS answers with the (empty) full set; the client's timer runs
  EXPECT_THAT(lds[0].resources, IsEmpty());

  auto push = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}, {"c", "10.0.0.3"}}));
  ASSERT_THAT(push, SizeIs(3));
  EXPECT_EQ(push[0].type, kEds);
  EXPECT_THAT(Names(push[0]), ElementsAre("c"));
  EXPECT_EQ(push[1].type, kLds);
  EXPECT_THAT(Names(push[1]), ElementsAre("c:80"));
  EXPECT_EQ(push[2].type, kRds);
  EXPECT_THAT(Names(push[2]), ElementsAre("c-route"));
}

TEST_F(SotwStreamTest, PushesAreOrderedClustersEndpointsListenersRoutes) {
  // Requested in the "wrong" order on purpose.
  stream.OnRequest(Request(kRds, {"a-route"}));
  stream.OnRequest(Request(kLds, {}));
  stream.OnRequest(Request(kEds, {"a"}));
  stream.OnRequest(Request(kCds, {}));
  auto push = stream.OnSnapshot(ab);
  ASSERT_THAT(push, SizeIs(4));
  EXPECT_EQ(push[0].type, kCds);
  EXPECT_EQ(push[1].type, kEds);
  EXPECT_EQ(push[2].type, kLds);
  EXPECT_EQ(push[3].type, kRds);
}

TEST_F(SotwStreamTest, UnchangedSnapshotSendsNothing) {
  stream.OnRequest(Request(kCds, {}));
  stream.OnRequest(Request(kEds, {"a", "b"}));
  stream.OnRequest(Request(kLds, {}));
  stream.OnRequest(Request(kRds, {"a-route", "b-route"}));
  EXPECT_THAT(stream.OnSnapshot(ab), SizeIs(4));
  // A different snapshot object with identical content (another recompile of the group).
  EXPECT_THAT(stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}})), IsEmpty());
  // A repeated request with the same names after the ACK is not answered again.
  auto last_rds_nonce = stream.status().For(kRds).sent_nonce;
  EXPECT_THAT(stream.OnRequest(Request(kRds, {"a-route", "b-route"}, last_rds_nonce)), IsEmpty());
}

TEST_F(SotwStreamTest, GrowingSubscriptionSendsTheNewResourcesEvenIfUnchanged) {
  stream.OnSnapshot(ab);
  auto first = stream.OnRequest(Request(kLds, {"a:80"}));
  ASSERT_THAT(first, SizeIs(1));
  auto grown = stream.OnRequest(Request(kLds, {"a:80", "b:80"}, first[0].nonce));
  ASSERT_THAT(grown, SizeIs(1));
  EXPECT_THAT(Names(grown[0]), ElementsAre("a:80", "b:80"));  // LDS: the full requested set
}

TEST_F(SotwStreamTest, EmptyListAfterNamesUnsubscribesAndResubscribingSendsAgain) {
  stream.OnSnapshot(ab);
  auto first = stream.OnRequest(Request(kRds, {"a-route"}));
  ASSERT_THAT(first, SizeIs(1));
  // gRPC closes the channel: an empty list now means "nothing", not wildcard.
  EXPECT_THAT(stream.OnRequest(Request(kRds, {}, first[0].nonce)), IsEmpty());
  SnapshotBuilder builder;
  builder.Add(MakeResource(Route("a-route", "b")));
  builder.Add(MakeResource(Route("b-route", "b")));
  EXPECT_THAT(stream.OnSnapshot(std::move(builder).Build()), IsEmpty());
  // Back to the content the client once had: still nothing, it is not subscribed.
  EXPECT_THAT(stream.OnSnapshot(ab), IsEmpty());
  // A new channel for the same target asks again and gets it, although this very version was
  // sent before: the client dropped it when it unsubscribed.
  auto again = stream.OnRequest(Request(kRds, {"a-route"}, first[0].nonce));
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_THAT(Names(again[0]), ElementsAre("a-route"));
}

TEST_F(SotwStreamTest, EmptyListenerListAfterNamesIsNotWildcard) {
  stream.OnSnapshot(ab);
  auto first = stream.OnRequest(Request(kLds, {"a:80"}));
  EXPECT_THAT(stream.OnRequest(Request(kLds, {}, first[0].nonce)), IsEmpty());
  EXPECT_FALSE(stream.subscription(kLds).wildcard());
  EXPECT_THAT(stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}, {"c", "10.0.0.3"}})), IsEmpty());
}

TEST_F(SotwStreamTest, LegacyWildcardFollowsNewListeners) {
  stream.OnSnapshot(ab);
  stream.OnRequest(Request(kLds, {}));
  auto push = stream.OnSnapshot(MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}, {"c", "10.0.0.3"}}));
  ASSERT_THAT(push, SizeIs(1));
  EXPECT_THAT(Names(push[0]), ElementsAre("a:80", "b:80", "c:80"));
}

TEST_F(SotwStreamTest, ClearedSnapshotSendsNothing) {
  stream.OnSnapshot(ab);
  stream.OnRequest(Request(kLds, {}));
  EXPECT_THAT(stream.OnSnapshot(nullptr), IsEmpty());
  EXPECT_THAT(stream.OnRequest(Request(kCds, {})), IsEmpty());
}

TEST_F(SotwStreamTest, ReconnectingClientGetsItsStateAgain) {
  stream.OnSnapshot(ab);
  auto lds = stream.OnRequest(Request(kLds, {"a:80"}));
  auto rds = stream.OnRequest(Request(kRds, {"a-route"}));
  stream.OnRequest(Request(kLds, {"a:80"}, lds[0].nonce, lds[0].version_info));

  // The connection drops; the client opens a new stream and says which versions it has.
  SotwStream reconnected(clock, &callbacks);
  reconnected.OnSnapshot(ab);
  auto lds2 = reconnected.OnRequest(Request(kLds, {"a:80"}, "", lds[0].version_info));
  auto rds2 = reconnected.OnRequest(Request(kRds, {"a-route"}, "", rds[0].version_info));
  ASSERT_THAT(lds2, SizeIs(1));
  ASSERT_THAT(rds2, SizeIs(1));
  EXPECT_THAT(Names(lds2[0]), ElementsAre("a:80"));
  EXPECT_THAT(Names(rds2[0]), ElementsAre("a-route"));
  EXPECT_EQ(lds2[0].version_info, ab->Version(kLds));
}

TEST_F(SotwStreamTest, NonceEchoedFromAPreviousStreamIsServedButIsNotAnAck) {
  stream.OnSnapshot(ab);
  auto responses = stream.OnRequest(Request(kCds, {}, "42", "some-old-version"));
  ASSERT_THAT(responses, SizeIs(1));
  EXPECT_THAT(Names(responses[0]), ElementsAre("a", "b"));
  EXPECT_EQ(stream.status().For(kCds).acks, 0u);
  EXPECT_EQ(stream.status().For(kCds).acked_version, "");
  EXPECT_THAT(callbacks.acks, IsEmpty());
}

TEST_F(SotwStreamTest, ResourcesAreSharedNotCopied) {
  stream.OnSnapshot(ab);
  SotwStream other(clock);
  other.OnSnapshot(ab);
  auto mine = stream.OnRequest(Request(kCds, {}));
  auto theirs = other.OnRequest(Request(kCds, {}));
  ASSERT_THAT(mine, SizeIs(1));
  ASSERT_THAT(theirs, SizeIs(1));
  ASSERT_THAT(mine[0].resources, SizeIs(2));
  EXPECT_EQ(mine[0].resources[0].get(), theirs[0].resources[0].get());
  EXPECT_EQ(mine[0].resources[0].get(), ab->Find(kCds, "a").get());
}

}  // namespace
}  // namespace cmesh::xds
