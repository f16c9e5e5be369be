// What the xDS state keeps of a resource: its bytes, decoded on demand into the message that was
// sent, and the names it references (so neither the subscriptions nor the snapshot builder
// decode every cluster to find them).
#include "cmesh/xds_client/xds_state.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "responses.h"
#include "test_resources.h"

namespace cmesh::xds_client {
namespace {

using google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace testing;  // cmesh::xds_client::testing
namespace xt = cmesh::xds::testing;

TEST(ResourceTest, DecodesToTheMessageItWasMadeFromAndKeepsOnlyItsBytes) {
  auto route = xt::Route("ra", "a");
  Resource<envoy::config::route::v3::RouteConfiguration> resource = MakeResource(route);
  EXPECT_EQ(resource.bytes(), route.SerializeAsString());
  EXPECT_EQ(resource.hash(), HashBytes(route.SerializeAsString()));
  EXPECT_TRUE(MessageDifferencer::Equals(resource.Decode(), route));
  EXPECT_TRUE(MessageDifferencer::Equals(*resource, route));  // what /config_dump prints
  // Every decode is a fresh copy of the same content.
  auto first = resource.Decode();
  first.set_name("changed");
  EXPECT_EQ(resource.Decode().name(), "ra");
}

TEST(ResourceTest, EqualityIsIdentityNotContent) {
  auto cluster = xt::EdsCluster("a");
  auto one = MakeResource(cluster);
  auto copy = one;
  auto same_content = MakeResource(cluster);
  EXPECT_TRUE(one == copy);
  EXPECT_FALSE(one == same_content);
  EXPECT_EQ(one.hash(), same_content.hash());
  EXPECT_FALSE(Resource<envoy::config::cluster::v3::Cluster>());
  EXPECT_TRUE(MessageDifferencer::Equals(Resource<envoy::config::cluster::v3::Cluster>().Decode(),
                                         envoy::config::cluster::v3::Cluster()));
}

TEST(ResourceTest, ClustersKnowTheirEdsServiceNameWithoutBeingDecoded) {
  auto own = xt::EdsCluster("a");
  auto named = xt::EdsCluster("b");
  named.mutable_eds_cluster_config()->set_service_name("b-endpoints");
  envoy::config::cluster::v3::Cluster static_cluster;
  static_cluster.set_name("s");
  static_cluster.set_type(envoy::config::cluster::v3::Cluster::STATIC);
  // A service name on a cluster that is not EDS reads no endpoints.
  static_cluster.mutable_eds_cluster_config()->set_service_name("ignored");

  EXPECT_EQ(XdsState::EdsServiceName("a", MakeResource(own)), "a");
  EXPECT_TRUE(MakeResource(own).record()->references_itself);
  EXPECT_THAT(MakeResource(own).record()->references, IsEmpty());  // the name is not stored twice
  EXPECT_EQ(XdsState::EdsServiceName("b", MakeResource(named)), "b-endpoints");
  EXPECT_EQ(XdsState::EdsServiceName("s", MakeResource(static_cluster)), "");
  EXPECT_EQ(XdsState::EdsServiceName("x", Resource<envoy::config::cluster::v3::Cluster>()), "");
}

TEST(ResourceTest, ListenersKeepTheRdsNamesOfTheirConnectionManagers) {
  auto listener = ChainListener("0.0.0.0_80", {"8080", "80", "80"});
  EXPECT_THAT(MakeResource(listener).record()->references, ElementsAre("80", "8080"));
  EXPECT_THAT(MakeResource(xt::Route("ra", "a")).record()->references, IsEmpty());
}

TEST(ResourceMapTest, CopiesShareTheMapUntilOneIsChanged) {
  ResourceMap<envoy::config::route::v3::RouteConfiguration> first;
  EXPECT_TRUE(first.empty());
  EXPECT_EQ(first.find("ra"), first.end());
  EXPECT_THROW(first.at("ra"), std::out_of_range);
  first["ra"] = MakeResource(xt::Route("ra", "a"));
  auto second = first;
  EXPECT_EQ(&*second.begin(), &*first.begin());  // shared
  second["rb"] = MakeResource(xt::Route("rb", "b"));
  EXPECT_EQ(first.size(), 1u);  // the copy was changed, not the original
  EXPECT_FALSE(first.contains("rb"));
  EXPECT_EQ(second.size(), 2u);
  EXPECT_TRUE(second.at("ra") == first.at("ra"));  // the resources themselves are shared
  EXPECT_NE(&*second.begin(), &*first.begin());
}

}  // namespace
}  // namespace cmesh::xds_client
