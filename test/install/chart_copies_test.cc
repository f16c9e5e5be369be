// Helm cannot read outside a chart, so the charts carry copies: charts/base/files/crds/ of crds/,
// and charts/cmesh/files/injection-template.yaml of webhook/injection-template.yaml (which
// cmesh-pilot also compiles in). These tests fail when a copy drifts from its source; copy again.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "test_paths.h"

namespace cmesh::testing {
namespace {

namespace fs = std::filesystem;

std::set<std::string> YamlFiles(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") names.insert(entry.path().filename().string());
  }
  return names;
}

TEST(ChartCopiesTest, BaseChartCrdsAreTheRepositorysCrds) {
  const std::string source = SourceDir() + "/crds";
  const std::string copy = SourceDir() + "/charts/base/files/crds";
  const std::set<std::string> names = YamlFiles(source);
  ASSERT_EQ(names, (std::set<std::string>{"destination-rule.yaml", "virtual-service.yaml"}));
  EXPECT_EQ(YamlFiles(copy), names) << "cp crds/*.yaml charts/base/files/crds/";
  for (const std::string& name : names) {
    EXPECT_EQ(ReadFile(copy + "/" + name), ReadFile(source + "/" + name))
        << "charts/base/files/crds/" << name << " differs from crds/" << name << ": cp crds/*.yaml charts/base/files/crds/";
  }
}

TEST(ChartCopiesTest, CmeshChartInjectionTemplateIsThePilotsBuiltInOne) {
  EXPECT_EQ(ReadFile(SourceDir() + "/charts/cmesh/files/injection-template.yaml"),
            ReadFile(SourceDir() + "/webhook/injection-template.yaml"))
      << "cp webhook/injection-template.yaml charts/cmesh/files/";
}

}  // namespace
}  // namespace cmesh::testing
