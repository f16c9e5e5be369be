#include "cmesh/pipeline/push_pipeline.h"

#include <algorithm>
#include <condition_variable>

#include <gtest/gtest.h>

#include "cmesh/pipeline/to_snapshot.h"
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
  // Each proxy is published under its own key...
  EXPECT_NE(a, b);
  EXPECT_EQ(publisher_.published_, (std::vector<std::string>{a, b, other}));
  // ...but only the IP and pod name differ between a and b, which never reach the output: one
  // group, one snapshot object (so one set of serialised bytes) for both.
  EXPECT_EQ(pipeline_.GroupOf(a), pipeline_.GroupOf(b));
  EXPECT_NE(pipeline_.GroupOf(a), pipeline_.GroupOf(other));
  EXPECT_EQ(pipeline_.GroupKeys().size(), 2u);
  EXPECT_EQ(publisher_.cache_.GetSnapshot(a), publisher_.cache_.GetSnapshot(b));
  EXPECT_NE(publisher_.cache_.GetSnapshot(a), publisher_.cache_.GetSnapshot(other));
  EXPECT_EQ(pipeline_.Status(a)->members, 2u);
}

TEST_F(PushPipelineTest, ProxyKeyIsStableAndTellsProxiesApart) {
  const compiler::ProxyNode a = testing::Proxy(kProductpage, {{"app", "productpage"}});
  compiler::ProxyNode relabelled = a;
  relabelled.labels["version"] = "v2";
  compiler::ProxyNode grpc = a;
  grpc.generator = "grpc";
  EXPECT_EQ(PushPipeline::ProxyKey(a), PushPipeline::ProxyKey(testing::Proxy(kProductpage, {{"app", "productpage"}})));
  EXPECT_NE(PushPipeline::ProxyKey(a), PushPipeline::ProxyKey(relabelled));
  EXPECT_NE(PushPipeline::ProxyKey(a), PushPipeline::ProxyKey(grpc));
  EXPECT_NE(PushPipeline::ProxyKey(a), PushPipeline::ProxyKey(testing::Proxy(kProductpageB, {{"app", "productpage"}})));
  // Fields are length-prefixed: moving text between a label's name and value is another key.
  EXPECT_NE(PushPipeline::ProxyKey(testing::Proxy(kProductpage, {{"ab", "c"}})),
            PushPipeline::ProxyKey(testing::Proxy(kProductpage, {{"a", "bc"}})));
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

TEST_F(PushPipelineTest, ReleasedProxyIsClearedAndItsEmptyGroupNoLongerCompiled) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  const std::string key = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  // A second stream of the same proxy (Envoy reconnecting before the old stream is gone).
  EXPECT_EQ(pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}})), key);
  ASSERT_NE(publisher_.cache_.GetSnapshot(key), nullptr);
  const std::string group = *pipeline_.GroupOf(key);

  EXPECT_FALSE(pipeline_.ReleaseProxy(key));  // one stream is still there
  EXPECT_NE(publisher_.cache_.GetSnapshot(key), nullptr);
  EXPECT_TRUE(pipeline_.ReleaseProxy(key));
  EXPECT_FALSE(pipeline_.ReleaseProxy(key));
  EXPECT_EQ(publisher_.cache_.GetSnapshot(key), nullptr);
  EXPECT_FALSE(pipeline_.Status(key).has_value());
  EXPECT_FALSE(pipeline_.Status(group).has_value());
  EXPECT_EQ(pipeline_.proxies(), 0u);
  EXPECT_TRUE(publisher_.cache_.GroupKeys().empty());
  const PushStats stats =
      pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(50))), {}, clock_.Now());
  EXPECT_EQ(stats.compiled, 0u);
  EXPECT_EQ(publisher_.cache_.GetSnapshot(key), nullptr);
  // The next proxy of that group makes it a group again, compiled at once.
  const std::string b = pipeline_.RegisterProxy(testing::Proxy(kProductpageB, {{"app", "productpage"}}));
  EXPECT_EQ(pipeline_.GroupOf(b), group);
  EXPECT_NE(publisher_.cache_.GetSnapshot(b), nullptr);
}

TEST_F(PushPipelineTest, ReleasingTheRepresentativeKeepsTheGroupServingTheOthers) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  const std::string a = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}}));
  const std::string b = pipeline_.RegisterProxy(testing::Proxy(kProductpageB, {{"app", "productpage"}}));
  ASSERT_EQ(pipeline_.Status(b)->proxy_id, kProductpage);
  EXPECT_TRUE(pipeline_.ReleaseProxy(a));
  EXPECT_EQ(pipeline_.Status(b)->proxy_id, kProductpageB);
  const xds::SnapshotPtr before = publisher_.cache_.GetSnapshot(b);
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(50))), {}, clock_.Now());
  EXPECT_NE(publisher_.cache_.GetSnapshot(b), before);
  EXPECT_EQ(publisher_.cache_.GetSnapshot(a), nullptr);
}

// reviews pods in MeshConfig carry version labels; a VirtualService matching sourceLabels
// version=v2 makes `version` relevant, which splits proxies that shared a group before.
TEST_F(PushPipelineTest, ProxiesMoveToTheirNewGroupWhenAChangeSplitsOne) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  const std::string v1 = pipeline_.RegisterProxy(testing::Proxy(kProductpage, {{"app", "productpage"}, {"version", "v1"}}));
  const std::string v2 =
      pipeline_.RegisterProxy(testing::Proxy(kProductpageB, {{"app", "productpage"}, {"version", "v2"}}));
  ASSERT_EQ(pipeline_.GroupOf(v1), pipeline_.GroupOf(v2));  // `version` matters to nothing yet
  const std::string shared_group = *pipeline_.GroupOf(v1);

  const std::string only_v2_callers = R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - match: [{sourceLabels: {version: v2}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
  - route: [{destination: {host: ratings}}]
)";
  const PushStats stats = pipeline_.ApplyConfig(
      Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80) + "\n---\n" + only_v2_callers)), {}, clock_.Now());
  EXPECT_EQ(stats.moved, 2u);
  EXPECT_NE(pipeline_.GroupOf(v1), pipeline_.GroupOf(v2));
  EXPECT_EQ(pipeline_.GroupKeys().size(), 2u);
  EXPECT_FALSE(pipeline_.Status(shared_group).has_value());  // emptied, so gone

  // Each proxy's own key now serves its own group's snapshot: only v2 callers get the fault.
  auto ratings_routes = [&](const std::string& key) {
    xds::SnapshotPtr snapshot = publisher_.cache_.GetSnapshot(key);
    EXPECT_NE(snapshot, nullptr);
    xds::ResourcePtr route = snapshot ? snapshot->Find(ResourceType::kRoute, "9080") : nullptr;
    EXPECT_NE(route, nullptr);
    return route ? route->body.value() : std::string();
  };
  const std::string v1_routes = ratings_routes(v1);
  const std::string v2_routes = ratings_routes(v2);
  EXPECT_NE(v1_routes, v2_routes);
  EXPECT_NE(v2_routes.find("envoy.filters.http.fault"), std::string::npos);
  EXPECT_EQ(v1_routes.find("envoy.filters.http.fault"), std::string::npos);
  EXPECT_EQ(pipeline_.Status(v1)->snapshot, publisher_.cache_.GetSnapshot(v1));
  EXPECT_EQ(pipeline_.Status(v2)->snapshot, publisher_.cache_.GetSnapshot(v2));
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

TEST_F(PushPipelineTest, ProxylessGrpcClientsShareOneGroupWithEveryNameTheyCouldAskFor) {
  pipeline_.ApplyConfig(Shared(testing::MeshConfig(testing::ReviewsSplitYaml(80))), {}, clock_.Now());
  compiler::ProxyNode client = testing::Proxy(kProductpage, {{"app", "productpage"}});
  const std::string sidecar_key = pipeline_.RegisterProxy(client);
  client.generator = "grpc";
  const std::string grpc_key = pipeline_.RegisterProxy(client);
  EXPECT_NE(grpc_key, sidecar_key);
  EXPECT_NE(pipeline_.GroupOf(grpc_key), pipeline_.GroupOf(sidecar_key));
  xds::SnapshotPtr snapshot = publisher_.cache_.GetSnapshot(grpc_key);
  ASSERT_NE(snapshot, nullptr);
  // gRFC A27 with Istio's naming: a listener for every way of naming each service port from the
  // default namespace; their routes come over RDS as outbound|PORT||FQDN.
  for (const char* name : {"reviews:9080", "reviews.default:9080", "reviews.default.svc:9080",
                           "reviews.default.svc.cluster.local:9080", "ratings:9080",
                           "ratings.default.svc.cluster.local:9080"}) {
    EXPECT_NE(snapshot->Find(ResourceType::kListener, name), nullptr) << name;
  }
  EXPECT_EQ(snapshot->Find(ResourceType::kListener, "reviews:9081"), nullptr);
  EXPECT_NE(snapshot->Find(ResourceType::kRoute, "outbound|9080||reviews.default.svc.cluster.local"), nullptr);
  EXPECT_NE(snapshot->Find(ResourceType::kCluster, "outbound|9080|v1|reviews.default.svc.cluster.local"), nullptr);
  // No sidecar listeners (0.0.0.0_9080, virtualInbound) for a gRPC client.
  EXPECT_EQ(snapshot->Find(ResourceType::kListener, "virtualInbound"), nullptr);
  // Another proxyless client of the namespace shares the snapshot, whatever it will dial.
  compiler::ProxyNode other = testing::Proxy(kProductpageB, {{"app", "productpage"}});
  other.generator = "grpc";
  EXPECT_EQ(publisher_.cache_.GetSnapshot(pipeline_.RegisterProxy(other)), snapshot);
}

// The pipeline compiles incrementally; what it publishes must always equal a full compilation
// of the current config for the group's proxy.
TEST_F(PushPipelineTest, PublishedSnapshotsEqualAFullCompilationThroughChanges) {
  const compiler::ProxyNode a = testing::Proxy(kProductpage, {{"app", "productpage"}});
  const compiler::ProxyNode b =
      testing::Proxy("sidecar~10.1.0.11~productpage-c.other~other.svc.cluster.local", {{"app", "productpage"}});
  std::string key_a, key_b;
  for (int weight : {80, 50, 50, 20, 100}) {
    auto config = Shared(testing::MeshConfig(testing::ReviewsSplitYaml(weight)));
    pipeline_.ApplyConfig(config, {}, clock_.Now());
    if (key_a.empty()) {
      key_a = pipeline_.RegisterProxy(a);
      key_b = pipeline_.RegisterProxy(b);
    }
    auto index = compiler::BuildIndex(config, compiler::MeshOptions{});
    for (const auto& [key, proxy] : {std::pair{key_a, a}, std::pair{key_b, b}}) {
      xds::ResourceInterner fresh;
      SnapshotResult full = ToSnapshot(compiler::Compile(*index, proxy, compiler::MeshOptions{}), fresh);
      ASSERT_TRUE(full.ok());
      xds::SnapshotPtr served = publisher_.cache_.GetSnapshot(key);
      ASSERT_NE(served, nullptr);
      for (ResourceType type : xds::kPushOrder) {
        EXPECT_EQ(served->Version(type), full.snapshot->Version(type)) << "weight " << weight << " " << key;
        ASSERT_EQ(served->Resources(type).size(), full.snapshot->Resources(type).size());
        for (const auto& [name, resource] : full.snapshot->Resources(type)) {
          auto mine = served->Find(type, name);
          ASSERT_NE(mine, nullptr) << name;
          EXPECT_EQ(mine->body.value(), resource->body.value()) << name;
        }
      }
    }
  }
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
