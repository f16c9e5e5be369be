#include "cmesh/pipeline/push_pipeline.h"

#include <algorithm>
#include <condition_variable>

#include <gtest/gtest.h>

#include "pipeline_test_util.h"

namespace cmesh::pipeline {
namespace {

using std::chrono::milliseconds;
using xds::ResourceType;

constexpr char kProductpage[] = "sidecar~10.1.0.9~productpage-a.default~default.svc.cluster.local";
constexpr char kProductpageB[] = "sidecar~10.1.0.10~productpage-b.default~default.svc.cluster.local";

std::shared_ptr<const model::ConfigSet> Shared(model::ConfigSet config) {
  return std::make_shared<const model::ConfigSet>(std::move(config));
}

// Forwards to a real cache and records each publication; can refuse on demand.
class RecordingPublisher final : public xds::SnapshotPublisher {
 public:
  std::vector<std::string> SetSnapshot(const std::string& key, xds::SnapshotPtr snapshot) override {
    {
      std::lock_guard lock(mutex_);
      published_.push_back(key);
      if (refuse_) return {"refused for the test"};
    }
    return cache_.SetSnapshot(key, std::move(snapshot));
  }
  void ClearSnapshot(const std::string& key) override { cache_.ClearSnapshot(key); }

  xds::SnapshotCache cache_;
  std::mutex mutex_;
  std::vector<std::string> published_;
  bool refuse_ = false;
};

class PushPipelineTest : public ::testing::Test {
 protected:
  testing::ManualScheduler clock_;
  xds::ResourceInterner interner_;
  RecordingPublisher publisher_;
  PushPipeline pipeline_{publisher_, interner_, clock_};
};

TEST_F(PushPipelineTest, RegisteringANewGroupPublishesItsSnapshotAtOnce) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  const std::string key = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  xds::SnapshotPtr snapshot = publisher_.cache_.GetSnapshot(key);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_NE(snapshot->Find(ResourceType::kCluster, "outbound|9080|v1|reviews.default.svc.cluster.local"), nullptr);
  auto status = pipeline_.Status(key);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->publishes, 1u);
  EXPECT_EQ(status->proxy_id, kProductpage);
  EXPECT_EQ(status->change_time, clock_.Now());
  EXPECT_EQ(status->snapshot, snapshot);
}

TEST_F(PushPipelineTest, ProxiesWithTheSameKeyShareOneGroup) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig()), {}, clock_.Now());
  const std::string a = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  const std::string b = pipeline_.RegisterProxy(testing::Proxy(kProductpageB, {{"app", "productpage"}}));
  const std::string other = pipeline_.RegisterProxy(
      testing::Proxy("sidecar~10.1.0.11~productpage-c.other~other.svc.cluster.local", {{"app", "productpage"}}));
  EXPECT_EQ(a, b);  // only the IP and pod name differ: they never reach the output
  EXPECT_NE(a, other);
  EXPECT_EQ(pipeline_.GroupKeys().size(), 2u);
  EXPECT_EQ(publisher_.published_.size(), 2u);  // the second proxy of a group compiles nothing
}

TEST_F(PushPipelineTest, ChangePublishesTheNewVersionWithItsChangeTime) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  const std::string key = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  const xds::SnapshotPtr before = publisher_.cache_.GetSnapshot(key);

  clock_.Advance(milliseconds(500));
  const SteadyTime change_time = clock_.Now();
  clock_.Advance(milliseconds(100));  // the debounce delay between the change and the push
  const PushStats stats = pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(50))),
                                                {{"VirtualService", "default", "reviews"}}, change_time);
  EXPECT_EQ(stats.compiled, 1u);
  EXPECT_EQ(stats.published, 1u);
  EXPECT_EQ(stats.failed, 0u);
  const xds::SnapshotPtr after = publisher_.cache_.GetSnapshot(key);
  ASSERT_NE(after, before);
  EXPECT_NE(after->Version(ResourceType::kRoute), before->Version(ResourceType::kRoute));
  EXPECT_EQ(after->Version(ResourceType::kCluster), before->Version(ResourceType::kCluster));
  auto status = pipeline_.Status(key);
  EXPECT_EQ(status->publishes, 2u);
  EXPECT_EQ(status->change_time, change_time);
  EXPECT_EQ(status->published_time, clock_.Now());
}

TEST_F(PushPipelineTest, ChangeTimeIsFoundForEveryRecentlyPublishedVersion) {
  const SteadyTime t0 = clock_.Now();
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, t0);
  const std::string key = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  const SteadyTime registered = clock_.Now();
  const xds::SnapshotPtr v80 = publisher_.cache_.GetSnapshot(key);

  clock_.Advance(milliseconds(300));
  const SteadyTime t1 = clock_.Now();
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(50))), {}, t1);
  const xds::SnapshotPtr v50 = publisher_.cache_.GetSnapshot(key);
  clock_.Advance(milliseconds(300));
  const SteadyTime t2 = clock_.Now();
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, t2);  // back to 80

  // A pipelined client ACKing the 50/50 routes after the revert was already published.
  EXPECT_EQ(pipeline_.ChangeTimeFor(key, ResourceType::kRoute, v50->Version(ResourceType::kRoute)), t1);
  // The 80/20 routes now served were introduced by the revert, not by the first publication.
  EXPECT_EQ(pipeline_.ChangeTimeFor(key, ResourceType::kRoute, v80->Version(ResourceType::kRoute)), t2);
  // The clusters never changed: they date from the group's first snapshot.
  EXPECT_EQ(pipeline_.ChangeTimeFor(key, ResourceType::kCluster, v80->Version(ResourceType::kCluster)), registered);
  EXPECT_EQ(pipeline_.ChangeTimeFor(key, ResourceType::kRoute, "no-such-version"), std::nullopt);
  EXPECT_EQ(pipeline_.ChangeTimeFor("no-such-group", ResourceType::kRoute, "x"), std::nullopt);
}

TEST_F(PushPipelineTest, RemovedGroupIsClearedAndNoLongerCompiled) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  const std::string key = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  ASSERT_NE(publisher_.cache_.GetSnapshot(key), nullptr);
  EXPECT_TRUE(pipeline_.RemoveGroup(key));
  EXPECT_FALSE(pipeline_.RemoveGroup(key));
  EXPECT_EQ(publisher_.cache_.GetSnapshot(key), nullptr);
  EXPECT_FALSE(pipeline_.Status(key).has_value());
  const PushStats stats =
      pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(50))), {}, clock_.Now());
  EXPECT_EQ(stats.compiled, 0u);
  EXPECT_EQ(publisher_.cache_.GetSnapshot(key), nullptr);
  // The next proxy with that key makes it a group again, compiled at once.
  EXPECT_EQ(pipeline_.RegisterProxy(testing::Proxy(kProductpageB, {{"app", "productpage"}})), key);
  EXPECT_NE(publisher_.cache_.GetSnapshot(key), nullptr);
}

TEST_F(PushPipelineTest, UnchangedOutputIsNotPublished) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  const std::string key = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  ASSERT_EQ(publisher_.published_.size(), 1u);
  // The same config parsed again (new objects, same content) changes nothing for this group.
  const PushStats stats =
      pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  EXPECT_EQ(stats.compiled, 1u);
  EXPECT_EQ(stats.published, 0u);
  EXPECT_EQ(publisher_.published_.size(), 1u);
  EXPECT_EQ(pipeline_.Status(key)->publishes, 1u);
}

TEST_F(PushPipelineTest, RefusedSnapshotKeepsTheOldOneAndIsRetriedOnTheNextChange) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  const std::string key = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  const xds::SnapshotPtr good = publisher_.cache_.GetSnapshot(key);
  publisher_.refuse_ = true;
  PushStats stats = pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(50))), {}, clock_.Now());
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.published, 0u);
  EXPECT_EQ(publisher_.cache_.GetSnapshot(key), good);
  EXPECT_EQ(pipeline_.Status(key)->errors, std::vector<std::string>{"refused for the test"});
  EXPECT_EQ(pipeline_.Status(key)->snapshot, good);

  publisher_.refuse_ = false;
  stats = pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(50))), {}, clock_.Now());
  EXPECT_EQ(stats.published, 1u);  // same output as the refused one, but never published yet
  EXPECT_TRUE(pipeline_.Status(key)->errors.empty());
  EXPECT_NE(publisher_.cache_.GetSnapshot(key), good);
}

TEST_F(PushPipelineTest, ProxylessGrpcClientGetsItsRequestedListenerInItsOwnGroup) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  compiler::ProxyNode client = testing::Proxy(kProductpage, {{"app", "productpage"}});
  const std::string sidecar_key = pipeline_.RegisterProxy(client);
  client.generator = "grpc";
  const std::string grpc_key = pipeline_.RegisterProxy(client, {"reviews:9080"});
  EXPECT_NE(grpc_key, sidecar_key);
  xds::SnapshotPtr snapshot = publisher_.cache_.GetSnapshot(grpc_key);
  ASSERT_NE(snapshot, nullptr);
  // gRFC A27 with Istio's naming: the listener is named as requested, its routes come over RDS
  // as outbound|PORT||FQDN, and only the clusters those routes name are sent.
  EXPECT_NE(snapshot->Find(ResourceType::kListener, "reviews:9080"), nullptr);
  EXPECT_EQ(snapshot->Resources(ResourceType::kListener).size(), 1u);
  EXPECT_NE(snapshot->Find(ResourceType::kRoute, "outbound|9080||reviews.default.svc.cluster.local"), nullptr);
  EXPECT_NE(snapshot->Find(ResourceType::kCluster, "outbound|9080|v1|reviews.default.svc.cluster.local"), nullptr);
  EXPECT_EQ(snapshot->Find(ResourceType::kCluster, "outbound|9080||ratings.default.svc.cluster.local"), nullptr);
  // Asking for another listener is another output, so another group.
  EXPECT_NE(pipeline_.RegisterProxy(client, {"ratings:9080"}), grpc_key);
}

// Holds each publication until `bound` are in flight (or a timeout), recording the peak.
class GatedPublisher final : public xds::SnapshotPublisher {
 public:
  explicit GatedPublisher(int bound) : bound_(bound) {}
  std::vector<std::string> SetSnapshot(const std::string&, xds::SnapshotPtr) override {
    std::unique_lock lock(mutex_);
    ++in_flight_;
    peak_ = std::max(peak_, in_flight_);
    ++calls_;
    changed_.notify_all();
    // A third concurrent push (a broken bound) would arrive within the wait and raise the peak.
    if (gated_) changed_.wait_for(lock, milliseconds(100), [&] { return in_flight_ > bound_; });
    --in_flight_;
    return {};
  }
  void ClearSnapshot(const std::string&) override {}

  const int bound_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int in_flight_ = 0;
  int peak_ = 0;
  int calls_ = 0;
  bool gated_ = false;
};

TEST(PushPipelineConcurrencyTest, PushesInFlightAreBounded) {
  testing::ManualScheduler clock;
  xds::ResourceInterner interner;
  GatedPublisher publisher(2);
  PushPipelineOptions options;
  options.max_concurrent_pushes = 2;
  PushPipeline pipeline(publisher, interner, clock, options);
  pipeline.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock.Now());
  for (int i = 0; i < 6; ++i) {
    const std::string ns = "ns" + std::to_string(i);
    pipeline.RegisterProxy(testing::Proxy("sidecar~10.2.0." + std::to_string(i) + "~app-a." + ns + "~" + ns +
                                              ".svc.cluster.local",
                                          {{"app", "client"}}));
  }
  ASSERT_EQ(pipeline.GroupKeys().size(), 6u);
  publisher.peak_ = 0;
  publisher.gated_ = true;
  const PushStats stats =
      pipeline.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(30))), {}, clock.Now());
  EXPECT_EQ(stats.compiled, 6u);
  EXPECT_EQ(stats.published, 6u);
  EXPECT_EQ(publisher.peak_, 2);  // two workers met in the gate; never a third
}

}  // namespace
}  // namespace cmesh::pipeline
