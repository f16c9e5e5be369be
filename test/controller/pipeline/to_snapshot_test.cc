#include "cmesh/pipeline/to_snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/compiler/compiler.h"
#include "pipeline_test_util.h"

namespace cmesh::pipeline {
namespace {

using ::testing::HasSubstr;
using xds::ResourceType;

constexpr char kReviewsCluster[] = "outbound|9080||reviews.default.svc.cluster.local";
constexpr char kReviewsV1Cluster[] = "outbound|9080|v1|reviews.default.svc.cluster.local";

compiler::XdsResources CompileProductpage(const model::ConfigSet& config) {
  auto index = compiler::BuildIndex(std::make_shared<model::ConfigSet>(config), compiler::MeshOptions{});
  return compiler::Compile(*index,
                           testing::Proxy("sidecar~10.1.0.9~productpage-a.default~default.svc.cluster.local",
                                          {{"app", "productpage"}}),
                           compiler::MeshOptions{});
}

TEST(ToSnapshotTest, CarriesEveryResourceWithTheCompilersVersions) {
  const compiler::XdsResources out = CompileProductpage(testing::MeshConfig(testing::ReviewsSplitYaml(80)));
  xds::ResourceInterner interner;
  SnapshotResult result = ToSnapshot(out, interner);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(result.errors);
  const xds::Snapshot& snapshot = *result.snapshot;
  EXPECT_EQ(snapshot.Resources(ResourceType::kListener).size(), out.listeners.size());
  EXPECT_EQ(snapshot.Resources(ResourceType::kRoute).size(), out.routes.size());
  EXPECT_EQ(snapshot.Resources(ResourceType::kCluster).size(), out.clusters.size());
  EXPECT_EQ(snapshot.Resources(ResourceType::kEndpoint).size(), out.endpoints.size());
  for (const auto& cluster : out.clusters) {
    xds::ResourcePtr resource = snapshot.Find(ResourceType::kCluster, cluster.resource.name());
    ASSERT_NE(resource, nullptr) << cluster.resource.name();
    EXPECT_EQ(resource->version, cluster.version);
  }
  // Istio's names: the service's cluster and its subset clusters, each with an assignment (EDS),
  // and the outbound HTTP route table named after the port.
  EXPECT_NE(snapshot.Find(ResourceType::kCluster, kReviewsCluster), nullptr);
  EXPECT_NE(snapshot.Find(ResourceType::kCluster, kReviewsV1Cluster), nullptr);
  EXPECT_NE(snapshot.Find(ResourceType::kEndpoint, kReviewsV1Cluster), nullptr);
  EXPECT_NE(snapshot.Find(ResourceType::kRoute, "9080"), nullptr);
  EXPECT_EQ(snapshot.Version(ResourceType::kListener), out.ListenersVersion());
  EXPECT_EQ(snapshot.Version(ResourceType::kRoute), out.RoutesVersion());
  EXPECT_EQ(snapshot.Version(ResourceType::kCluster), out.ClustersVersion());
  EXPECT_EQ(snapshot.Version(ResourceType::kEndpoint), out.EndpointsVersion());
}

TEST(ToSnapshotTest, IdenticalResourcesShareOneSerialisation) {
  const model::ConfigSet before = testing::MeshConfig(testing::ReviewsSplitYaml(80));
  const model::ConfigSet after = testing::MeshConfig(testing::ReviewsSplitYaml(50));
  xds::ResourceInterner interner;
  const compiler::XdsResources first_out = CompileProductpage(before);
  SnapshotResult first = ToSnapshot(first_out, interner);
  ASSERT_TRUE(first.ok());
  const std::size_t total = first_out.listeners.size() + first_out.routes.size() + first_out.clusters.size() +
                            first_out.endpoints.size();
  EXPECT_EQ(interner.serialisations(), total);

  // Another group with identical output: nothing is serialised again, the pointers are shared.
  SnapshotResult same = ToSnapshot(CompileProductpage(before), interner);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(interner.serialisations(), total);
  EXPECT_EQ(same.snapshot->Find(ResourceType::kCluster, kReviewsCluster),
            first.snapshot->Find(ResourceType::kCluster, kReviewsCluster));

  // A weight change touches the route table only: exactly one new serialisation, the clusters
  // stay the very same objects.
  SnapshotResult changed = ToSnapshot(CompileProductpage(after), interner);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(interner.serialisations(), total + 1);
  EXPECT_NE(changed.snapshot->Find(ResourceType::kRoute, "9080"), first.snapshot->Find(ResourceType::kRoute, "9080"));
  EXPECT_EQ(changed.snapshot->Find(ResourceType::kCluster, kReviewsV1Cluster),
            first.snapshot->Find(ResourceType::kCluster, kReviewsV1Cluster));
  EXPECT_NE(changed.snapshot->Version(ResourceType::kRoute), first.snapshot->Version(ResourceType::kRoute));
  EXPECT_EQ(changed.snapshot->Version(ResourceType::kCluster), first.snapshot->Version(ResourceType::kCluster));
}

TEST(ToSnapshotTest, DanglingRdsNameIsAnError) {
  compiler::XdsResources out = CompileProductpage(testing::MeshConfig());
  ASSERT_FALSE(out.routes.empty());
  out.routes.clear();  // the HTTP listener still loads "9080" over RDS
  xds::ResourceInterner interner;
  SnapshotResult result = ToSnapshot(out, interner);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.snapshot, nullptr);
  EXPECT_THAT(::testing::PrintToString(result.errors), HasSubstr("9080"));
}

TEST(ToSnapshotTest, EdsClusterWithoutAssignmentIsAnError) {
  compiler::XdsResources out = CompileProductpage(testing::MeshConfig());
  std::erase_if(out.endpoints, [](const auto& e) { return e.resource.cluster_name() == kReviewsCluster; });
  xds::ResourceInterner interner;
  SnapshotResult result = ToSnapshot(out, interner);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(::testing::PrintToString(result.errors), HasSubstr(kReviewsCluster));
}

TEST(ToSnapshotTest, DuplicateNameIsAnError) {
  compiler::XdsResources out = CompileProductpage(testing::MeshConfig());
  ASSERT_FALSE(out.clusters.empty());
  out.clusters.push_back(out.clusters.front());
  xds::ResourceInterner interner;
  SnapshotResult result = ToSnapshot(out, interner);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(::testing::PrintToString(result.errors), HasSubstr(out.clusters.front().resource.name()));
}

}  // namespace
}  // namespace cmesh::pipeline
