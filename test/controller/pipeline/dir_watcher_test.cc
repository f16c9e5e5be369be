#include "cmesh/pipeline/dir_watcher.h"

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace cmesh::pipeline {
namespace {

using Kind = FileEvent::Kind;
namespace fs = std::filesystem;

bool Has(const std::vector<FileEvent>& events, Kind kind, const std::string& path) {
  return std::find(events.begin(), events.end(), FileEvent{kind, path}) != events.end();
}

// Collects events until `done` holds for them, or 5 s pass (then the test fails on its checks).
template <typename Pred>
std::vector<FileEvent> CollectUntil(DirWatcher& watcher, Pred done) {
  std::vector<FileEvent> all;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done(all) && std::chrono::steady_clock::now() < deadline) {
    for (FileEvent& event : watcher.Poll(std::chrono::milliseconds(100))) all.push_back(std::move(event));
  }
  return all;
}

class DirWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    std::string error;
    watcher_ = DirWatcher::Open(dir_.path(), &error);
    ASSERT_NE(watcher_, nullptr) << error;
  }
  cmesh::testing::TempDir dir_;
  std::unique_ptr<DirWatcher> watcher_;
};

TEST(DirWatcherNamesTest, ConfigFileNamesAreTheLoadersOnes) {
  EXPECT_TRUE(IsConfigFileName("/d/a.yaml"));
  EXPECT_TRUE(IsConfigFileName("/d/a.yml"));
  EXPECT_TRUE(IsConfigFileName("/d/a.json"));
  EXPECT_TRUE(IsConfigFileName("/d/A.YAML"));
  EXPECT_FALSE(IsConfigFileName("/d/a.yaml.swp"));
  EXPECT_FALSE(IsConfigFileName("/d/notes.txt"));
  EXPECT_FALSE(IsConfigFileName("/d/yaml"));
}

TEST(DirWatcherOpenTest, MissingDirectoryIsAnError) {
  std::string error;
  EXPECT_EQ(DirWatcher::Open("/nonexistent/cmesh-pipeline-dir", &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/cmesh-pipeline-dir"), std::string::npos);
}

TEST_F(DirWatcherTest, CreateModifyDeleteOfConfigFiles) {
  const std::string a = dir_.Path("a.yaml");
  dir_.Write("notes.txt", "not config");
  dir_.Write("a.yaml", "first");
  auto events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kModified, a); });
  EXPECT_TRUE(Has(events, Kind::kCreated, a));
  EXPECT_TRUE(Has(events, Kind::kModified, a));
  for (const FileEvent& event : events) EXPECT_EQ(event.path, a) << "only config files are reported";

  dir_.Write("a.yaml", "second");
  events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kModified, a); });
  EXPECT_TRUE(Has(events, Kind::kModified, a));
  EXPECT_FALSE(Has(events, Kind::kCreated, a));

  fs::remove(a);
  events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kDeleted, a); });
  EXPECT_TRUE(Has(events, Kind::kDeleted, a));
}

TEST_F(DirWatcherTest, RenamesAreReportedOnBothSides) {
  // The atomic replace editors and `kubectl`-like tools do: write a temporary, rename over.
  dir_.Write("b.yaml.tmp", "content");
  fs::rename(dir_.Path("b.yaml.tmp"), dir_.Path("b.yaml"));
  auto events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kMovedTo, dir_.Path("b.yaml")); });
  EXPECT_TRUE(Has(events, Kind::kMovedTo, dir_.Path("b.yaml")));

  fs::rename(dir_.Path("b.yaml"), dir_.Path("c.json"));
  events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kMovedTo, dir_.Path("c.json")); });
  EXPECT_TRUE(Has(events, Kind::kMovedFrom, dir_.Path("b.yaml")));
  EXPECT_TRUE(Has(events, Kind::kMovedTo, dir_.Path("c.json")));
}

TEST_F(DirWatcherTest, NewSubdirectoriesAreWatched) {
  fs::create_directories(dir_.Path("sub/deep"));
  // Written right away: the file may exist before the watch does; the scan of a new directory
  // reports it then, so it is never missed.
  dir_.Write("sub/deep/x.yaml", "x");
  const std::string x = dir_.Path("sub/deep/x.yaml");
  auto events = CollectUntil(*watcher_, [&](const auto& e) {
    return Has(e, Kind::kCreated, x) || Has(e, Kind::kModified, x);
  });
  EXPECT_TRUE(Has(events, Kind::kCreated, x) || Has(events, Kind::kModified, x));
  EXPECT_EQ(watcher_->watched_directories(), 3u);

  // Later writes inside come from the new watch itself.
  dir_.Write("sub/deep/y.yml", "y");
  const std::string y = dir_.Path("sub/deep/y.yml");
  events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kModified, y); });
  EXPECT_TRUE(Has(events, Kind::kModified, y));

  fs::remove_all(dir_.Path("sub"));
  events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kDirGone, dir_.Path("sub")); });
  EXPECT_TRUE(Has(events, Kind::kDirGone, dir_.Path("sub")));
  EXPECT_EQ(watcher_->watched_directories(), 1u);
}

TEST_F(DirWatcherTest, ExistingSubdirectoriesAreWatchedFromTheStart) {
  fs::create_directories(dir_.Path("pre"));
  std::string error;
  auto watcher = DirWatcher::Open(dir_.path(), &error);
  ASSERT_NE(watcher, nullptr) << error;
  dir_.Write("pre/z.yaml", "z");
  const std::string z = dir_.Path("pre/z.yaml");
  auto events = CollectUntil(*watcher, [&](const auto& e) { return Has(e, Kind::kModified, z); });
  EXPECT_TRUE(Has(events, Kind::kModified, z));
}

TEST_F(DirWatcherTest, DirectoryMovedAwayIsGone) {
  cmesh::testing::TempDir elsewhere;
  fs::create_directories(dir_.Path("moving"));
  dir_.Write("moving/m.yaml", "m");
  const std::string m = dir_.Path("moving/m.yaml");
  auto seen = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kCreated, m) || Has(e, Kind::kModified, m); });
  ASSERT_TRUE(Has(seen, Kind::kCreated, m) || Has(seen, Kind::kModified, m));
  fs::rename(dir_.Path("moving"), elsewhere.Path("moved"));
  auto events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kDirGone, dir_.Path("moving")); });
  EXPECT_TRUE(Has(events, Kind::kDirGone, dir_.Path("moving")));
  // Writes in the moved directory are no longer ours.
  std::ofstream(elsewhere.Path("moved/n.yaml")) << "n";
  dir_.Write("marker.yaml", "after");
  events = CollectUntil(*watcher_, [&](const auto& e) { return Has(e, Kind::kModified, dir_.Path("marker.yaml")); });
  for (const FileEvent& event : events) EXPECT_EQ(event.path, dir_.Path("marker.yaml"));
}

}  // namespace
}  // namespace cmesh::pipeline
