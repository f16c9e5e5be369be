#include "cmesh/xds/resource_interner.h"

#include <gtest/gtest.h>

#include "test_resources.h"

namespace cmesh::xds {
namespace {

using namespace cmesh::xds::testing;

TEST(ResourceInternerTest, SameNameAndVersionIsSerialisedOnceAndShared) {
  ResourceInterner interner;
  ResourcePtr first = interner.Get(Assignment("a", {"10.0.0.1"}), "v1");
  ResourcePtr second = interner.Get(Assignment("a", {"10.0.0.1"}), "v1");  // another group
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(interner.serialisations(), 1u);
  EXPECT_EQ(first->version, "v1");
}

TEST(ResourceInternerTest, NewVersionOrOtherNameOrOtherTypeIsSerialisedAgain) {
  ResourceInterner interner;
  ResourcePtr v1 = interner.Get(Assignment("a", {"10.0.0.1"}), "v1");
  ResourcePtr v2 = interner.Get(Assignment("a", {"10.0.0.2"}), "v2");
  ResourcePtr b = interner.Get(Assignment("b", {"10.0.0.1"}), "v1");
  ResourcePtr cluster = interner.Get(EdsCluster("a"), "v1");
  EXPECT_NE(v1.get(), v2.get());
  EXPECT_NE(v1.get(), b.get());
  EXPECT_EQ(cluster->type, ResourceType::kCluster);
  EXPECT_EQ(interner.serialisations(), 4u);
  envoy::config::endpoint::v3::ClusterLoadAssignment decoded;
  ASSERT_TRUE(v2->body.UnpackTo(&decoded));
  EXPECT_EQ(decoded.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address(), "10.0.0.2");
}

TEST(ResourceInternerTest, ResourcesNoLongerHeldAreReleased) {
  ResourceInterner interner;
  ResourcePtr kept = interner.Get(Route("kept", "c"), "v1");
  interner.Get(Route("dropped", "c"), "v1");  // nobody holds it
  EXPECT_EQ(interner.live(), 1u);
  // Asked again after release: serialised anew (the interner never keeps bytes alive itself).
  interner.Get(Route("dropped", "c"), "v1");
  EXPECT_EQ(interner.serialisations(), 3u);
}

TEST(ResourceInternerTest, EmptyVersionIsNeverShared) {
  ResourceInterner interner;
  ResourcePtr one = interner.Get(Route("r", "c"), "");
  ResourcePtr two = interner.Get(Route("r", "c"), "");
  EXPECT_NE(one.get(), two.get());
  EXPECT_EQ(one->version, two->version);  // content versions, derived from the bytes
  EXPECT_FALSE(one->version.empty());
}

TEST(ResourceInternerTest, ManyExpiredEntriesAreSwept) {
  ResourceInterner interner;
  for (int i = 0; i < 1000; ++i) interner.Get(Route("r" + std::to_string(i), "c"), "v");
  ResourcePtr held = interner.Get(Route("held", "c"), "v");
  EXPECT_EQ(interner.live(), 1u);
  EXPECT_LT(interner.tracked(), 200u);  // not 1001: expired entries were swept along the way
  EXPECT_EQ(interner.Get(Route("held", "c"), "v").get(), held.get());
}

}  // namespace
}  // namespace cmesh::xds
