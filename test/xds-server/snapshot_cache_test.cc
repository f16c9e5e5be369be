#include "cmesh/xds/snapshot_cache.h"

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_resources.h"

namespace cmesh::xds {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace cmesh::xds::testing;

TEST(SnapshotCacheTest, GroupWithoutSnapshotReturnsNull) {
  SnapshotCache cache;
  EXPECT_EQ(cache.GetSnapshot("default/app=a"), nullptr);
}

TEST(SnapshotCacheTest, ProxiesOfOneGroupShareOneSnapshot) {
  SnapshotCache cache;
  SnapshotPtr snapshot = MeshSnapshot({{"a", "10.0.0.1"}});
  ASSERT_THAT(cache.SetSnapshot("default", snapshot), IsEmpty());
  // Two proxies with the same group key get the very same object, hence the same bytes.
  EXPECT_EQ(cache.GetSnapshot("default").get(), snapshot.get());
  EXPECT_EQ(cache.GetSnapshot("default").get(), cache.GetSnapshot("default").get());
  EXPECT_EQ(cache.GetSnapshot("other"), nullptr);
  EXPECT_THAT(cache.GroupKeys(), ElementsAre("default"));
}

TEST(SnapshotCacheTest, InconsistentSnapshotIsRefusedAndOldOneKept) {
  SnapshotCache cache;
  SnapshotPtr good = MeshSnapshot({{"a", "10.0.0.1"}});
  ASSERT_THAT(cache.SetSnapshot("g", good), IsEmpty());
  SnapshotBuilder builder;
  builder.Add(MakeResource(Listener("l1", "nowhere")));
  EXPECT_THAT(cache.SetSnapshot("g", std::move(builder).Build()), ElementsAre(HasSubstr("nowhere")));
  EXPECT_EQ(cache.GetSnapshot("g").get(), good.get());
  EXPECT_THAT(cache.SetSnapshot("g", nullptr), ElementsAre(HasSubstr("null snapshot")));
}

TEST(SnapshotCacheTest, WatchersOfTheGroupAreNotifiedOfLaterSnapshotsOnly) {
  SnapshotCache cache;
  SnapshotPtr first = MeshSnapshot({{"a", "10.0.0.1"}});
  cache.SetSnapshot("g", first);
  std::vector<const Snapshot*> seen_g, seen_h;
  WatchHandle g = cache.Watch("g", [&](const SnapshotPtr& s) { seen_g.push_back(s.get()); });
  WatchHandle h = cache.Watch("h", [&](const SnapshotPtr& s) { seen_h.push_back(s.get()); });
  EXPECT_THAT(seen_g, IsEmpty());  // the current one is for GetSnapshot

  SnapshotPtr second = MeshSnapshot({{"a", "10.0.0.2"}});
  cache.SetSnapshot("g", second);
  cache.ClearSnapshot("g");
  EXPECT_THAT(seen_g, ElementsAre(second.get(), nullptr));
  EXPECT_THAT(seen_h, IsEmpty());
}

TEST(SnapshotCacheTest, CancelledOrDestroyedWatchIsNotCalled) {
  SnapshotCache cache;
  int calls = 0;
  {
    WatchHandle scoped = cache.Watch("g", [&](const SnapshotPtr&) { ++calls; });
  }
  WatchHandle cancelled = cache.Watch("g", [&](const SnapshotPtr&) { ++calls; });
  cancelled.Cancel();
  WatchHandle moved_from = cache.Watch("g", [&](const SnapshotPtr&) { ++calls; });
  WatchHandle moved_to = std::move(moved_from);
  cache.SetSnapshot("g", MeshSnapshot({{"a", "10.0.0.1"}}));
  EXPECT_EQ(calls, 1);  // only the moved-to handle is live
}

TEST(SnapshotCacheTest, CallbackMayCancelItsOwnWatchAndCallTheCache) {
  SnapshotCache cache;
  int calls = 0;
  WatchHandle handle;
  handle = cache.Watch("g", [&](const SnapshotPtr& s) {
    ++calls;
    EXPECT_EQ(cache.GetSnapshot("g").get(), s.get());
    handle.Cancel();
  });
  cache.SetSnapshot("g", MeshSnapshot({{"a", "10.0.0.1"}}));
  cache.SetSnapshot("g", MeshSnapshot({{"a", "10.0.0.2"}}));
  EXPECT_EQ(calls, 1);
}

TEST(SnapshotCacheTest, NewerSnapshotPublishedDuringADeliveryIsNotOverwrittenByTheOlder) {
  // Deterministic version of the race: while the first watcher is being told about `first`, a
  // newer snapshot is published (here from inside its callback). The second watcher must end on
  // the newer one, not receive `first` afterwards.
  SnapshotCache cache;
  SnapshotPtr first = MeshSnapshot({{"a", "10.0.0.1"}});
  SnapshotPtr second = MeshSnapshot({{"a", "10.0.0.2"}});
  WatchHandle publisher = cache.Watch("g", [&](const SnapshotPtr& s) {
    if (s == first) cache.SetSnapshot("g", second);
  });
  std::vector<const Snapshot*> seen;
  WatchHandle observer = cache.Watch("g", [&](const SnapshotPtr& s) { seen.push_back(s.get()); });
  cache.SetSnapshot("g", first);
  EXPECT_THAT(seen, ElementsAre(second.get()));
  EXPECT_EQ(cache.GetSnapshot("g").get(), second.get());
}

TEST(SnapshotCacheTest, ConcurrentPublishersNeverLeaveAWatcherOnAnOlderSnapshot) {
  SnapshotCache cache;
  std::mutex mutex;
  SnapshotPtr last_seen;
  WatchHandle handle = cache.Watch("g", [&](const SnapshotPtr& s) {
    std::lock_guard lock(mutex);
    last_seen = s;
  });
  std::vector<SnapshotPtr> snapshots;
  for (int i = 0; i < 8; ++i) snapshots.push_back(MeshSnapshot({{"a", "10.0.0." + std::to_string(i)}}));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) cache.SetSnapshot("g", snapshots[(t * 2 + round) % 8]);
    });
  }
  for (auto& thread : threads) thread.join();
  std::lock_guard lock(mutex);
  // Whatever the interleaving, the watcher ends on the snapshot the cache holds.
  EXPECT_EQ(last_seen.get(), cache.GetSnapshot("g").get());
}

}  // namespace
}  // namespace cmesh::xds
