#include "cmesh/pipeline/config_directory.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/file_source/file_loader.h"
#include "temp_dir.h"

namespace cmesh::pipeline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ServiceYaml(const std::string& name) {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name +
         "\n  namespace: default\nspec:\n  selector:\n    app: " + name +
         "\n  ports:\n  - name: http\n    port: 9080\n---\n";
}

std::string VsYaml(const std::string& name, const std::string& host, const std::string& timeout) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: " + name +
         "\n  namespace: default\nspec:\n  hosts: [" + host + "]\n  http:\n  - timeout: " + timeout +
         "\n    route:\n    - destination: {host: " + host + "}\n---\n";
}

std::vector<std::string> VsNames(const model::ConfigSet& config) {
  std::vector<std::string> names;
  for (const auto& vs : config.virtual_services) names.push_back(vs.meta.name);
  return names;
}

bool HasErrorAbout(const std::vector<model::Diagnostic>& diagnostics, const std::string& name) {
  for (const auto& d : diagnostics) {
    if (d.severity == model::Severity::kError && d.object.name == name) return true;
  }
  return false;
}

class ConfigDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    fs::create_directories(dir_.Path("sub"));
    dir_.Write("services.yaml", ServiceYaml("reviews") + ServiceYaml("ratings"));
    dir_.Write("sub/reviews-vs.yaml", VsYaml("reviews", "reviews", "5s"));
    dir_.Write("ratings-vs.json",
               R"({"apiVersion":"networking.istio.io/v1","kind":"VirtualService",)"
               R"("metadata":{"name":"ratings","namespace":"default"},)"
               R"("spec":{"hosts":["ratings"],"http":[{"route":[{"destination":{"host":"ratings"}}]}]}})");
    dir_.Write("README.md", "not config");
  }
  cmesh::testing::TempDir dir_;
  ConfigDirectory config_dir_{dir_.path()};
};

TEST_F(ConfigDirectoryTest, LoadAllReadsEveryConfigFileLikeTheLoader) {
  const ObjectKeySet changed = config_dir_.LoadAll();
  const ObjectKeySet expected = {{"Service", "default", "ratings"},
                                 {"Service", "default", "reviews"},
                                 {"VirtualService", "default", "ratings"},
                                 {"VirtualService", "default", "reviews"}};
  EXPECT_EQ(changed, expected);
  EXPECT_EQ(config_dir_.files().size(), 3u);
  // The same objects in the same order as `cmeshctl compile DIR` loads them.
  const model::ParseResult loaded = file_source::LoadPaths({dir_.path()});
  EXPECT_EQ(VsNames(*config_dir_.config()), VsNames(loaded.config));
  EXPECT_EQ(config_dir_.config()->services.size(), loaded.config.services.size());
  EXPECT_FALSE(model::HasErrors(config_dir_.diagnostics()));
}

TEST_F(ConfigDirectoryTest, AChangedFileReportsOnlyItsChangedObjects) {
  config_dir_.LoadAll();
  dir_.Write("sub/reviews-vs.yaml", VsYaml("reviews", "reviews", "7s"));
  const ObjectKeySet changed = config_dir_.ReloadFile(dir_.Path("sub/reviews-vs.yaml"));
  EXPECT_EQ(changed, (ObjectKeySet{{"VirtualService", "default", "reviews"}}));
  // Rewriting a file with identical content changes nothing.
  dir_.Write("services.yaml", ServiceYaml("reviews") + ServiceYaml("ratings"));
  EXPECT_TRUE(config_dir_.ReloadFile(dir_.Path("services.yaml")).empty());
}

TEST_F(ConfigDirectoryTest, InvalidObjectIsSkippedAndTheRestKeepsServing) {
  config_dir_.LoadAll();
  // One file now holds an invalid VirtualService ("x" is no duration) next to a valid one.
  dir_.Write("sub/reviews-vs.yaml", VsYaml("reviews", "reviews", "x") + VsYaml("reviews-b", "ratings", "2s"));
  const ObjectKeySet changed = config_dir_.ReloadFile(dir_.Path("sub/reviews-vs.yaml"));
  EXPECT_EQ(changed, (ObjectKeySet{{"VirtualService", "default", "reviews"},
                                   {"VirtualService", "default", "reviews-b"}}));
  EXPECT_THAT(VsNames(*config_dir_.config()), ::testing::UnorderedElementsAre("ratings", "reviews-b"));
  EXPECT_TRUE(HasErrorAbout(config_dir_.diagnostics(), "reviews"));
  EXPECT_EQ(config_dir_.config()->services.size(), 2u);  // other files untouched
}

TEST_F(ConfigDirectoryTest, ARemovedFileRemovesItsObjects) {
  config_dir_.LoadAll();
  fs::remove(dir_.Path("services.yaml"));
  const ObjectKeySet changed = config_dir_.Apply(FileEvent{FileEvent::Kind::kDeleted, dir_.Path("services.yaml")});
  EXPECT_EQ(changed, (ObjectKeySet{{"Service", "default", "ratings"}, {"Service", "default", "reviews"}}));
  EXPECT_TRUE(config_dir_.config()->services.empty());
  EXPECT_EQ(config_dir_.config()->virtual_services.size(), 2u);
}

TEST_F(ConfigDirectoryTest, AGoneDirectoryRemovesEveryFileUnderIt) {
  config_dir_.LoadAll();
  fs::remove_all(dir_.Path("sub"));
  const ObjectKeySet changed = config_dir_.Apply(FileEvent{FileEvent::Kind::kDirGone, dir_.Path("sub")});
  EXPECT_EQ(changed, (ObjectKeySet{{"VirtualService", "default", "reviews"}}));
  EXPECT_EQ(VsNames(*config_dir_.config()), std::vector<std::string>{"ratings"});
  EXPECT_EQ(config_dir_.files().size(), 2u);
}

TEST_F(ConfigDirectoryTest, CrossObjectRulesRunOverTheMergedConfig) {
  // A delegate (no hosts) is valid only while some VirtualService, here in another file, names it.
  dir_.Write("delegate.yaml",
             "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews-delegate\n"
             "  namespace: default\nspec:\n  http:\n  - route:\n    - destination: {host: reviews}\n---\n");
  dir_.Write("root.yaml",
             "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: root\n"
             "  namespace: default\nspec:\n  hosts: [ratings.example.com]\n  http:\n"
             "  - delegate: {name: reviews-delegate, namespace: default}\n---\n");
  config_dir_.LoadAll();
  EXPECT_THAT(VsNames(*config_dir_.config()), ::testing::Contains("reviews-delegate"));
  EXPECT_FALSE(HasErrorAbout(config_dir_.diagnostics(), "reviews-delegate"));

  fs::remove(dir_.Path("root.yaml"));
  const ObjectKeySet changed = config_dir_.Remove(dir_.Path("root.yaml"));
  EXPECT_EQ(changed, (ObjectKeySet{{"VirtualService", "default", "reviews-delegate"},
                                   {"VirtualService", "default", "root"}}));
  EXPECT_THAT(VsNames(*config_dir_.config()), ::testing::Not(::testing::Contains("reviews-delegate")));
  EXPECT_TRUE(HasErrorAbout(config_dir_.diagnostics(), "reviews-delegate"));
}

TEST_F(ConfigDirectoryTest, EventsForAVanishedFileDropIt) {
  config_dir_.LoadAll();
  // A modify event handled after the file was already deleted again.
  fs::remove(dir_.Path("ratings-vs.json"));
  const ObjectKeySet changed = config_dir_.Apply(FileEvent{FileEvent::Kind::kModified, dir_.Path("ratings-vs.json")});
  EXPECT_EQ(changed, (ObjectKeySet{{"VirtualService", "default", "ratings"}}));
}

TEST_F(ConfigDirectoryTest, WatcherEventsKeepTheConfigCurrent) {
  config_dir_.LoadAll();
  std::string error;
  auto watcher = DirWatcher::Open(dir_.path(), &error);
  ASSERT_NE(watcher, nullptr) << error;
  dir_.Write("sub/new.yaml", VsYaml("new", "ratings", "3s"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  ObjectKeySet changed;
  while (!changed.contains({"VirtualService", "default", "new"}) && std::chrono::steady_clock::now() < deadline) {
    changed.merge(config_dir_.Apply(watcher->Poll(std::chrono::milliseconds(100))));
  }
  EXPECT_EQ(changed, (ObjectKeySet{{"VirtualService", "default", "new"}}));
  EXPECT_THAT(VsNames(*config_dir_.config()), ::testing::Contains("new"));
}

}  // namespace
}  // namespace cmesh::pipeline
