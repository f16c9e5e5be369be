#include "cmesh/xds/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/xds/resource.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "test_resources.h"

namespace cmesh::xds {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace cmesh::xds::testing;

TEST(ResourceTypeTest, TypeUrlsRoundTripAndUnknownUrlIsRejected) {
  EXPECT_EQ(TypeUrl(ResourceType::kListener), "type.googleapis.com/envoy.config.listener.v3.Listener");
  EXPECT_EQ(TypeUrl(ResourceType::kRoute), "type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
  EXPECT_EQ(TypeUrl(ResourceType::kCluster), "type.googleapis.com/envoy.config.cluster.v3.Cluster");
  EXPECT_EQ(TypeUrl(ResourceType::kEndpoint),
            "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment");
  for (ResourceType type : kPushOrder) EXPECT_EQ(TypeFromUrl(TypeUrl(type)), type);
  EXPECT_EQ(TypeFromUrl("type.googleapis.com/envoy.config.listener.v2.Listener"), std::nullopt);
  EXPECT_EQ(TypeFromUrl(""), std::nullopt);
}

TEST(ResourceTypeTest, PushOrderIsClustersEndpointsListenersRoutes) {
  EXPECT_THAT(kPushOrder, ElementsAre(ResourceType::kCluster, ResourceType::kEndpoint, ResourceType::kListener,
                                      ResourceType::kRoute));
  EXPECT_TRUE(IsFullStateType(ResourceType::kListener));
  EXPECT_TRUE(IsFullStateType(ResourceType::kCluster));
  EXPECT_FALSE(IsFullStateType(ResourceType::kRoute));
  EXPECT_FALSE(IsFullStateType(ResourceType::kEndpoint));
}

TEST(ResourceTest, AnyCarriesTheTypeUrlAndTheResourceBytes) {
  ResourcePtr resource = MakeResource(Route("r1", "c1"));
  EXPECT_EQ(resource->type, ResourceType::kRoute);
  EXPECT_EQ(resource->name, "r1");
  EXPECT_EQ(resource->body.type_url(), TypeUrl(ResourceType::kRoute));
  envoy::config::route::v3::RouteConfiguration decoded;
  ASSERT_TRUE(resource->body.UnpackTo(&decoded));
  EXPECT_EQ(decoded.virtual_hosts(0).routes(0).route().cluster(), "c1");
}

TEST(ResourceTest, ContentVersionFollowsContentOnly) {
  EXPECT_EQ(MakeResource(Route("r1", "c1"))->version, MakeResource(Route("r1", "c1"))->version);
  EXPECT_NE(MakeResource(Route("r1", "c1"))->version, MakeResource(Route("r1", "c2"))->version);
  EXPECT_EQ(MakeResource(Route("r1", "c1"), "v7")->version, "v7");
  // FNV-1a 64 of the empty input is its offset basis.
  EXPECT_EQ(ContentVersion(""), "cbf29ce484222325");
}

TEST(ResourceTest, ListenerDependsOnItsRdsNamesFromApiListenerAndFilterChains) {
  EXPECT_THAT(MakeResource(Listener("l1", "r1"))->dependencies, ElementsAre("r1"));

  using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
  HttpConnectionManager hcm;
  hcm.mutable_rds()->set_route_config_name("chain-route");
  envoy::config::listener::v3::Listener listener;
  listener.set_name("0.0.0.0_80");
  auto* filter = listener.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  HttpConnectionManager inline_routes;  // inline route_config: nothing to load over RDS
  inline_routes.mutable_route_config()->set_name("inline");
  listener.mutable_default_filter_chain()->add_filters()->mutable_typed_config()->PackFrom(inline_routes);
  EXPECT_THAT(MakeResource(listener)->dependencies, ElementsAre("chain-route"));
}

TEST(ResourceTest, EdsClusterDependsOnServiceNameOrItsOwnName) {
  EXPECT_THAT(MakeResource(EdsCluster("c1"))->dependencies, ElementsAre("c1"));
  auto named = EdsCluster("outbound|80|v1|reviews");
  named.mutable_eds_cluster_config()->set_service_name("reviews-v1");
  EXPECT_THAT(MakeResource(named)->dependencies, ElementsAre("reviews-v1"));
  envoy::config::cluster::v3::Cluster strict_dns;
  strict_dns.set_name("dns");
  strict_dns.set_type(envoy::config::cluster::v3::Cluster::STRICT_DNS);
  EXPECT_THAT(MakeResource(strict_dns)->dependencies, IsEmpty());
}

TEST(SnapshotTest, ConsistentSnapshotHasNoErrors) {
  SnapshotPtr snapshot = MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}});
  EXPECT_THAT(snapshot->CheckConsistency(), IsEmpty());
  EXPECT_EQ(snapshot->Resources(ResourceType::kListener).size(), 2u);
  EXPECT_NE(snapshot->Find(ResourceType::kEndpoint, "b"), nullptr);
  EXPECT_EQ(snapshot->Find(ResourceType::kEndpoint, "c"), nullptr);
}

TEST(SnapshotTest, MissingRouteConfigurationIsAnError) {
  SnapshotBuilder builder;
  builder.Add(MakeResource(Listener("l1", "missing-route")));
  EXPECT_THAT(std::move(builder).Build()->CheckConsistency(),
              ElementsAre(AllOf(HasSubstr("LDS l1"), HasSubstr("missing-route"))));
}

TEST(SnapshotTest, EdsClusterWithoutAssignmentIsAnError) {
  SnapshotBuilder builder;
  builder.Add(MakeResource(EdsCluster("c1")));
  builder.Add(MakeResource(EdsCluster("c2")));
  builder.Add(MakeResource(Assignment("c2", {"10.0.0.1"})));
  EXPECT_THAT(std::move(builder).Build()->CheckConsistency(),
              ElementsAre(AllOf(HasSubstr("CDS c1"), HasSubstr("ClusterLoadAssignment c1"))));
}

TEST(SnapshotTest, DuplicateNameIsRefusedAndReported) {
  SnapshotBuilder builder;
  EXPECT_TRUE(builder.Add(MakeResource(Route("r1", "a"))));
  EXPECT_FALSE(builder.Add(MakeResource(Route("r1", "b"))));
  EXPECT_THAT(builder.errors(), ElementsAre(HasSubstr("duplicate resource name r1")));
  SnapshotPtr snapshot = std::move(builder).Build();
  envoy::config::route::v3::RouteConfiguration kept;
  ASSERT_TRUE(snapshot->Find(ResourceType::kRoute, "r1")->body.UnpackTo(&kept));
  EXPECT_EQ(kept.virtual_hosts(0).routes(0).route().cluster(), "a");
}

TEST(SnapshotTest, TypeVersionChangesOnlyWithThatTypesContent) {
  SnapshotPtr before = MeshSnapshot({{"a", "10.0.0.1"}});
  SnapshotPtr same = MeshSnapshot({{"a", "10.0.0.1"}});
  SnapshotPtr moved = MeshSnapshot({{"a", "10.0.0.9"}});
  for (ResourceType type : kPushOrder) EXPECT_EQ(before->Version(type), same->Version(type));
  EXPECT_NE(before->Version(ResourceType::kEndpoint), moved->Version(ResourceType::kEndpoint));
  EXPECT_EQ(before->Version(ResourceType::kCluster), moved->Version(ResourceType::kCluster));
  EXPECT_EQ(before->Version(ResourceType::kListener), moved->Version(ResourceType::kListener));
}

TEST(SnapshotTest, ExplicitTypeVersionOverridesDigest) {
  SnapshotBuilder builder;
  builder.SetVersion(ResourceType::kRoute, "compiler-42");
  EXPECT_EQ(std::move(builder).Build()->Version(ResourceType::kRoute), "compiler-42");
}

TEST(SnapshotTest, SnapshotsShareUnchangedResourceObjects) {
  // The controller reuses the ResourcePtr of an unchanged resource in the next snapshot; both
  // snapshots then point at the same serialised bytes.
  ResourcePtr shared = MakeResource(Route("r1", "c1"));
  SnapshotBuilder first, second;
  first.Add(shared);
  second.Add(shared);
  EXPECT_EQ(std::move(first).Build()->Find(ResourceType::kRoute, "r1").get(),
            std::move(second).Build()->Find(ResourceType::kRoute, "r1").get());
}

}  // namespace
}  // namespace cmesh::xds

namespace cmesh::xds {
namespace {

TEST(SnapshotChangesTest, ChangedSinceListsNewAndChangedNamesAndIsShared) {
  SnapshotBuilder before;
  before.Add(MakeResource(testing::Route("a", "c1")));
  before.Add(MakeResource(testing::Route("b", "c1")));
  before.Add(MakeResource(testing::Route("gone", "c1")));
  SnapshotPtr old_snapshot = std::move(before).Build();
  SnapshotBuilder after;
  after.Add(old_snapshot->Find(ResourceType::kRoute, "a"));            // the same object
  after.Add(MakeResource(testing::Route("b", "c2")));                  // a new version
  after.Add(MakeResource(testing::Route("c", "c1")));                  // new
  SnapshotPtr new_snapshot = std::move(after).Build();
  auto changed = new_snapshot->ChangedSince(old_snapshot, ResourceType::kRoute);
  EXPECT_THAT(*changed, ::testing::ElementsAre("b", "c"));  // "gone" is absent, not changed
  // Every stream moving between these two snapshots gets the same list.
  EXPECT_EQ(new_snapshot->ChangedSince(old_snapshot, ResourceType::kRoute), changed);
  EXPECT_TRUE(new_snapshot->ChangedSince(old_snapshot, ResourceType::kCluster)->empty());
  // From nothing: everything.
  EXPECT_THAT(*new_snapshot->ChangedSince(nullptr, ResourceType::kRoute), ::testing::ElementsAre("a", "b", "c"));
}

}  // namespace
}  // namespace cmesh::xds
