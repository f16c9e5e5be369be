#include "cmesh/xds/stream_session.h"

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/xds/session_registry.h"
#include "test_resources.h"

namespace cmesh::xds {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using namespace cmesh::xds::testing;

constexpr ResourceType kLds = ResourceType::kListener, kCds = ResourceType::kCluster;

template <typename Response>
struct RecordingSink : ResponseSink<Response> {
  void Send(std::vector<Response> responses) override {
    std::lock_guard lock(mutex);
    for (auto& response : responses) sent.push_back(std::move(response));
  }
  std::vector<Response> Take() {
    std::lock_guard lock(mutex);
    return std::exchange(sent, {});
  }
  std::mutex mutex;
  std::vector<Response> sent;
};

// Group by the node's namespace-like cluster field, as the controller might.
std::string GroupByCluster(const envoy::config::core::v3::Node& node) { return node.cluster(); }

envoy::service::discovery::v3::DiscoveryRequest FirstRequest(ResourceType type, const std::string& id,
                                                             const std::string& group) {
  auto request = Request(type, {});
  request.mutable_node()->set_id(id);
  request.mutable_node()->set_cluster(group);
  return request;
}

class StreamSessionTest : public ::testing::Test {
 protected:
  ManualClock clock;
  SnapshotCache cache;
  SnapshotPtr ab = MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}});
};

TEST_F(StreamSessionTest, FirstRequestJoinsTheNodesGroupAndIsAnsweredFromItsSnapshot) {
  ASSERT_THAT(cache.SetSnapshot("default", ab), IsEmpty());
  RecordingSink<SotwResponse> sink;
  std::vector<std::string> asked;
  SotwSession session(cache, [&](const auto& node) { asked.push_back(node.id()); return node.cluster(); },
                      clock, nullptr, sink);
  session.OnRequest(FirstRequest(kLds, "proxy-1", "default"));
  auto sent = sink.Take();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].type, kLds);
  EXPECT_THAT(Names(sent[0]), ElementsAre("a:80", "b:80"));
  EXPECT_EQ(session.GroupKey(), "default");
  // The group is derived once, from the first node.
  session.OnRequest(Request(kCds, {}));
  EXPECT_THAT(asked, ElementsAre("proxy-1"));
}

struct ClosingCallbacks : StreamCallbacks {
  void OnStreamClosed(const StreamStatus& status, const std::string& group_key) override {
    closed.push_back({status.node ? status.node->id() : "", group_key});
  }
  std::vector<std::pair<std::string, std::string>> closed;
};

TEST_F(StreamSessionTest, EachJoinedStreamReportsItsCloseOnceWithItsGroup) {
  ClosingCallbacks callbacks;
  RecordingSink<SotwResponse> sink;
  {
    SotwSession session(cache, GroupByCluster, clock, &callbacks, sink);
    session.OnRequest(FirstRequest(kLds, "proxy-1", "default"));
    EXPECT_THAT(callbacks.closed, IsEmpty());
    session.Close();
    session.Close();  // idempotent
  }  // and the destructor does not report it again
  EXPECT_THAT(callbacks.closed, ElementsAre(std::pair<std::string, std::string>("proxy-1", "default")));

  // A stream that never sent a node never joined a group: nothing to release.
  callbacks.closed.clear();
  { SotwSession session(cache, GroupByCluster, clock, &callbacks, sink); }
  EXPECT_THAT(callbacks.closed, IsEmpty());
}

TEST_F(StreamSessionTest, ClearedGroupWithoutWatchersIsForgotten) {
  ASSERT_THAT(cache.SetSnapshot("gone", ab), IsEmpty());
  ASSERT_THAT(cache.SetSnapshot("watched", ab), IsEmpty());
  RecordingSink<SotwResponse> sink;
  SotwSession session(cache, GroupByCluster, clock, nullptr, sink);
  session.OnRequest(FirstRequest(kLds, "proxy-1", "watched"));
  cache.ClearSnapshot("gone");
  cache.ClearSnapshot("watched");
  EXPECT_THAT(cache.GroupKeys(), IsEmpty());
  EXPECT_EQ(cache.GetSnapshot("gone"), nullptr);
  // The watched one still has its watcher, which hears of a later snapshot.
  sink.Take();
  ASSERT_THAT(cache.SetSnapshot("watched", MeshSnapshot({{"c", "10.0.0.3"}})), IsEmpty());
  EXPECT_THAT(sink.Take(), SizeIs(1));
}

TEST_F(StreamSessionTest, GroupWithoutSnapshotIsServedWhenOneIsPublished) {
  RecordingSink<SotwResponse> sink;
  SotwSession session(cache, GroupByCluster, clock, nullptr, sink);
  session.OnRequest(FirstRequest(kCds, "proxy-1", "default"));
  EXPECT_THAT(sink.Take(), IsEmpty());
  cache.SetSnapshot("default", ab);
  auto sent = sink.Take();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_THAT(Names(sent[0]), ElementsAre("a", "b"));
}

TEST_F(StreamSessionTest, ProxiesOfOneGroupShareSnapshotAndBytesOthersAreUntouched) {
  RecordingSink<SotwResponse> sink1, sink2, sink3;
  SotwSession p1(cache, GroupByCluster, clock, nullptr, sink1);
  SotwSession p2(cache, GroupByCluster, clock, nullptr, sink2);
  SotwSession other(cache, GroupByCluster, clock, nullptr, sink3);
  p1.OnRequest(FirstRequest(kCds, "proxy-1", "default"));
  p2.OnRequest(FirstRequest(kCds, "proxy-2", "default"));
  other.OnRequest(FirstRequest(kCds, "proxy-3", "prod"));
  cache.SetSnapshot("default", ab);
  auto s1 = sink1.Take(), s2 = sink2.Take();
  ASSERT_THAT(s1, SizeIs(1));
  ASSERT_THAT(s2, SizeIs(1));
  ASSERT_THAT(s1[0].resources, SizeIs(2));
  EXPECT_EQ(s1[0].resources[0].get(), s2[0].resources[0].get());  // one serialisation, shared
  EXPECT_THAT(sink3.Take(), IsEmpty());
}

TEST_F(StreamSessionTest, NothingReachesTheSinkAfterClose) {
  RecordingSink<SotwResponse> sink;
  SotwSession session(cache, GroupByCluster, clock, nullptr, sink);
  session.OnRequest(FirstRequest(kCds, "proxy-1", "default"));
  session.Close();
  session.Close();  // idempotent
  cache.SetSnapshot("default", ab);
  session.OnRequest(Request(kLds, {}));
  EXPECT_THAT(sink.Take(), IsEmpty());
}

TEST_F(StreamSessionTest, DeltaSessionServesTheSameWay) {
  cache.SetSnapshot("default", ab);
  RecordingSink<DeltaResponse> sink;
  DeltaSession session(cache, GroupByCluster, clock, nullptr, sink);
  auto request = DeltaRequest(kCds, {});
  request.mutable_node()->set_cluster("default");
  session.OnRequest(request);
  auto sent = sink.Take();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_THAT(Names(sent[0]), ElementsAre("a", "b"));
  cache.SetSnapshot("default", MeshSnapshot({{"a", "10.0.0.1"}}));
  sent = sink.Take();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_THAT(sent[0].removed, ElementsAre("b"));
}

TEST_F(StreamSessionTest, ConcurrentPublishingAndRequestsConverge) {
  RecordingSink<SotwResponse> sink;
  SotwSession session(cache, GroupByCluster, clock, nullptr, sink);
  session.OnRequest(FirstRequest(kCds, "proxy-1", "default"));
  std::vector<SnapshotPtr> snapshots;
  for (int i = 0; i < 5; ++i) {
    std::map<std::string, std::string> services;
    for (int j = 0; j <= i; ++j) services["s" + std::to_string(j)] = "10.0.0.1";
    snapshots.push_back(MeshSnapshot(services));
  }
  std::thread publisher([&] {
    for (int round = 0; round < 300; ++round) cache.SetSnapshot("default", snapshots[round % 5]);
  });
  for (int i = 0; i < 300; ++i) {
    // ACK whatever was sent last (the transport's job), racing with the publisher.
    session.OnRequest(Request(kCds, {}, session.Status().For(kCds).sent_nonce));
  }
  publisher.join();
  cache.SetSnapshot("default", snapshots[2]);
  // Whatever the interleaving, the last CDS response the client got is the cache's current set.
  auto sent = sink.Take();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().version_info, snapshots[2]->Version(kCds));
  EXPECT_THAT(Names(sent.back()), ElementsAre("s0", "s1", "s2"));
}

TEST(SessionRegistryTest, ListsLiveSessionsWithGroupAndNode) {
  ManualClock clock;
  SnapshotCache cache;
  RecordingSink<SotwResponse> sink;
  SessionRegistry registry;
  auto s1 = std::make_shared<SotwSession>(cache, GroupByCluster, clock, nullptr, sink);
  auto s2 = std::make_shared<SotwSession>(cache, GroupByCluster, clock, nullptr, sink);
  std::uint64_t id1 = registry.Add(s1);
  std::uint64_t id2 = registry.Add(s2);
  s1->OnRequest(FirstRequest(kLds, "proxy-1", "default"));
  s2->OnRequest(FirstRequest(kLds, "proxy-2", "prod"));
  auto listed = registry.List();
  ASSERT_THAT(listed, SizeIs(2));
  EXPECT_EQ(listed[0].id, id1);
  EXPECT_EQ(listed[0].group_key, "default");
  EXPECT_EQ(listed[0].status.node->id(), "proxy-1");
  EXPECT_EQ(listed[1].status.node->id(), "proxy-2");
  // A session the transport already destroyed drops out; Remove drops the entry itself.
  s2.reset();
  EXPECT_THAT(registry.List(), SizeIs(1));
  registry.Remove(id2);
  registry.Remove(id1);
  EXPECT_EQ(registry.size(), 0u);
}

}  // namespace
}  // namespace cmesh::xds
