#include "cmesh/pipeline/config_dir_source.h"

#include <condition_variable>
#include <filesystem>

#include <gtest/gtest.h>

#include "pipeline_test_util.h"
#include "temp_dir.h"

namespace cmesh::pipeline {
namespace {

using std::chrono::milliseconds;
using xds::ResourceType;

// The whole file mode with real inotify and a real timer thread: a file change reaches the
// group's published snapshot, and a deleted VirtualService falls back to the default route.
TEST(ConfigDirSourceTest, FileChangesReachThePublishedSnapshot) {
  cmesh::testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string split_80 = testing::ReviewsSplitYaml(80);
  dir.Write("reviews.yaml", split_80);
  dir.Write("mesh.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: default\nspec:\n"
            "  selector:\n    app: reviews\n  ports:\n  - name: http\n    port: 9080\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: reviews-v1-a\n  namespace: default\n  labels:\n"
            "    app: reviews\n    version: v1\nspec:\n  containers:\n  - name: app\nstatus:\n  phase: Running\n"
            "  podIP: 10.1.0.1\n  conditions:\n  - type: Ready\n    status: \"True\"\n");

  ThreadScheduler scheduler;
  xds::SnapshotCache cache;
  xds::ResourceInterner interner;
  PushPipeline pipeline(cache, interner, scheduler);
  std::atomic<int> diagnostics_calls{0};
  std::string error;
  SourceMerger merger(pipeline, scheduler, DebounceOptions{milliseconds(10), milliseconds(100)});
  auto source = ConfigDirSource::Start(
      dir.path(), merger,
      [&](const std::vector<model::Diagnostic>&) { ++diagnostics_calls; }, &error);
  ASSERT_NE(source, nullptr) << error;
  EXPECT_EQ(source->config()->virtual_services.size(), 1u);
  EXPECT_EQ(diagnostics_calls.load(), 1);

  const std::string key = pipeline.RegisterProxy(
      testing::Proxy("sidecar~10.1.0.9~productpage-a.default~default.svc.cluster.local", {{"app", "productpage"}}));
  xds::SnapshotPtr first;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<xds::SnapshotPtr> delivered;
  xds::WatchHandle watch = cache.Watch(
      key,
      [&](const xds::SnapshotPtr& snapshot) {
        std::lock_guard lock(mutex);
        delivered.push_back(snapshot);
        changed.notify_all();
      },
      &first);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(first->Find(ResourceType::kCluster, "outbound|9080|v1|reviews.default.svc.cluster.local"), nullptr);

  auto wait_for_delivery = [&](std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(5), [&] { return delivered.size() >= count; });
  };

  // A weight change: the route table changes, the clusters do not.
  dir.Write("reviews.yaml", testing::ReviewsSplitYaml(50));
  ASSERT_TRUE(wait_for_delivery(1));
  {
    std::lock_guard lock(mutex);
    EXPECT_NE(delivered[0]->Version(ResourceType::kRoute), first->Version(ResourceType::kRoute));
    EXPECT_EQ(delivered[0]->Version(ResourceType::kCluster), first->Version(ResourceType::kCluster));
  }
  auto status = pipeline.Status(key);
  ASSERT_TRUE(status.has_value());
  EXPECT_LE(status->change_time, status->published_time);

  // Deleting the file removes the VirtualService and the DestinationRule: no subset clusters.
  std::filesystem::remove(dir.Path("reviews.yaml"));
  ASSERT_TRUE(wait_for_delivery(2));
  std::lock_guard lock(mutex);
  EXPECT_EQ(delivered[1]->Find(ResourceType::kCluster, "outbound|9080|v1|reviews.default.svc.cluster.local"), nullptr);
  EXPECT_NE(delivered[1]->Find(ResourceType::kCluster, "outbound|9080||reviews.default.svc.cluster.local"), nullptr);
  EXPECT_TRUE(source->config()->virtual_services.empty());
}

TEST(ConfigDirSourceTest, MissingDirectoryIsAnError) {
  ThreadScheduler scheduler;
  xds::SnapshotCache cache;
  xds::ResourceInterner interner;
  PushPipeline pipeline(cache, interner, scheduler);
  std::string error;
  SourceMerger merger(pipeline, scheduler, {});
  EXPECT_EQ(ConfigDirSource::Start("/nonexistent/cmesh-dir", merger, nullptr, &error), nullptr);
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace cmesh::pipeline
