#include "cmesh/file_source/file_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::file_source {
namespace {

using ::testing::HasSubstr;

std::string DataDir() {
  return testing::SourceDir() + "/test/data/model";
}

std::string Dump(const model::ParseResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += d.ToString() + "\n";
  return out;
}

TEST(FileLoaderTest, DirectoryIsReadRecursivelyInSortedOrder) {
  model::ParseResult r = LoadPaths({DataDir() + "/loader"});
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r);
  ASSERT_EQ(r.config.services.size(), 3u);
  // a.yml, b.yaml, sub/c.json; notes.txt is skipped.
  EXPECT_EQ(r.config.services[0].meta.name, "a");
  EXPECT_EQ(r.config.services[1].meta.name, "b");
  EXPECT_EQ(r.config.services[2].meta.name, "c");
  EXPECT_EQ(r.config.services[2].origin.file, DataDir() + "/loader/sub/c.json");
  ASSERT_EQ(r.config.virtual_services.size(), 1u);
  ASSERT_EQ(r.config.destination_rules.size(), 1u);
  EXPECT_EQ(r.config.destination_rules[0].origin.file, DataDir() + "/loader/sub/deeper/d.yaml");
  EXPECT_EQ(r.config.destination_rules[0].origin.line, 11);
}

TEST(FileLoaderTest, FilesAndDirectoriesKeepTheGivenOrder) {
  model::ParseResult r =
      LoadPaths({DataDir() + "/loader/b.yaml", DataDir() + "/loader/sub", DataDir() + "/loader/a.yml"});
  EXPECT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.services.size(), 3u);
  EXPECT_EQ(r.config.services[0].meta.name, "b");
  EXPECT_EQ(r.config.services[1].meta.name, "c");
  EXPECT_EQ(r.config.services[2].meta.name, "a");
}

TEST(FileLoaderTest, AnExplicitFileIsReadWhateverItsExtension) {
  // Only directory listings filter by extension; a file named on the command line is parsed.
  model::ParseResult r = LoadPaths({DataDir() + "/loader/notes.txt"});
  EXPECT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.services.size(), 1u);
  EXPECT_EQ(r.config.services[0].meta.name, "must-not-load");
}

TEST(FileLoaderTest, MissingPathIsAnErrorAndOtherPathsStillLoad) {
  std::string missing = DataDir() + "/does-not-exist.yaml";
  model::ParseResult r = LoadPaths({missing, DataDir() + "/loader/a.yml"});
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].severity, model::Severity::kError);
  EXPECT_EQ(r.diagnostics[0].object.file, missing);
  EXPECT_THAT(r.diagnostics[0].ToString(), HasSubstr(missing));
  EXPECT_THAT(r.diagnostics[0].ToString(), HasSubstr("cannot read"));
  EXPECT_EQ(r.config.services.size(), 1u);
}

TEST(FileLoaderTest, MalformedFileNamesFileAndLine) {
  model::ParseResult r = LoadPaths({DataDir() + "/loader_errors"});
  ASSERT_EQ(r.diagnostics.size(), 1u) << Dump(r);
  const model::Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.object.file, DataDir() + "/loader_errors/malformed.yaml");
  EXPECT_GE(d.object.line, 5);
  EXPECT_THAT(d.message, HasSubstr("malformed YAML"));
  // good.yaml still loads.
  ASSERT_EQ(r.config.namespaces.size(), 1u);
  EXPECT_EQ(r.config.namespaces[0].meta.name, "shop");
}

}  // namespace
}  // namespace cmesh::file_source

namespace cmesh::file_source {
namespace {

// A delegate VirtualService (no hosts) and the root that refers to it may be in different files:
// the loader checks the delegation over everything it loaded, not file by file.
TEST(FileLoaderTest, DelegateAndRootInSeparateFiles) {
  testing::TempDir dir;
  dir.Write("a-delegate.yaml",
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews-paths, namespace: default}\n"
            "spec:\n  http:\n  - route:\n    - destination: {host: reviews}\n");
  dir.Write("b-root.yaml",
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: default}\n"
            "spec:\n  hosts: [reviews]\n  http:\n  - delegate: {name: reviews-paths}\n");
  model::ParseResult both = LoadPaths({dir.path()});
  EXPECT_TRUE(both.ok()) << Dump(both);
  EXPECT_EQ(both.config.virtual_services.size(), 2u);

  model::ParseResult alone = LoadPaths({dir.Path("a-delegate.yaml")});
  EXPECT_FALSE(alone.ok());
  EXPECT_TRUE(alone.config.virtual_services.empty());
}

}  // namespace
}  // namespace cmesh::file_source
