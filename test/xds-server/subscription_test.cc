#include "cmesh/xds/subscription.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cmesh::xds {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

NameList List(std::initializer_list<const char*> names) {
  NameList list;
  for (const char* name : names) list.Add(name);
  return list;
}

TEST(SotwSubscriptionTest, EmptyFirstListIsLegacyWildcardForListenersAndClusters) {
  for (ResourceType type : {ResourceType::kListener, ResourceType::kCluster}) {
    Subscription sub(type);
    sub.ApplySotw(List({}));
    EXPECT_TRUE(sub.wildcard());
    EXPECT_TRUE(sub.Wants("anything"));
  }
}

TEST(SotwSubscriptionTest, EmptyListIsNeverWildcardForRoutesAndEndpoints) {
  for (ResourceType type : {ResourceType::kRoute, ResourceType::kEndpoint}) {
    Subscription sub(type);
    sub.ApplySotw(List({}));
    EXPECT_FALSE(sub.wildcard());
    EXPECT_FALSE(sub.Wants("anything"));
  }
}

TEST(SotwSubscriptionTest, EmptyListAfterNamesUnsubscribesEverything) {
  Subscription sub(ResourceType::kListener);
  sub.ApplySotw(List({"a:80"}));
  EXPECT_TRUE(sub.Wants("a:80"));
  EXPECT_FALSE(sub.Wants("b:80"));
  sub.ApplySotw(List({}));
  EXPECT_FALSE(sub.wildcard());
  EXPECT_THAT(sub.names(), IsEmpty());
  EXPECT_FALSE(sub.Wants("a:80"));
}

TEST(SotwSubscriptionTest, EachListReplacesThePreviousOne) {
  Subscription sub(ResourceType::kRoute);
  sub.ApplySotw(List({"r1", "r2"}));
  sub.ApplySotw(List({"r2", "r3"}));
  EXPECT_THAT(sub.names(), ElementsAre("r2", "r3"));
}

TEST(SotwSubscriptionTest, StarIsWildcardOnlyForListenersAndClusters) {
  Subscription lds(ResourceType::kListener);
  lds.ApplySotw(List({"*", "a:80"}));
  EXPECT_TRUE(lds.wildcard());
  EXPECT_THAT(lds.names(), ElementsAre("a:80"));
  Subscription eds(ResourceType::kEndpoint);
  eds.ApplySotw(List({"*"}));
  EXPECT_FALSE(eds.wildcard());
  EXPECT_FALSE(eds.Wants("c1"));
  EXPECT_TRUE(eds.Wants("*"));  // an ordinary name for EDS
}

TEST(DeltaSubscriptionTest, EmptyFirstSubscribeIsLegacyWildcardAndNamesAddToIt) {
  Subscription sub(ResourceType::kCluster);
  sub.ApplyDelta(List({}), List({}), /*first_request=*/true);
  EXPECT_TRUE(sub.wildcard());
  sub.ApplyDelta(List({"extra"}), List({}), false);
  EXPECT_TRUE(sub.wildcard());
  EXPECT_THAT(sub.names(), ElementsAre("extra"));
}

TEST(DeltaSubscriptionTest, LaterEmptyRequestChangesNothing) {
  Subscription sub(ResourceType::kCluster);
  sub.ApplyDelta(List({"c1"}), List({}), true);
  EXPECT_FALSE(sub.wildcard());
  sub.ApplyDelta(List({}), List({}), false);  // a plain ACK
  EXPECT_FALSE(sub.wildcard());
  EXPECT_THAT(sub.names(), ElementsAre("c1"));
}

TEST(DeltaSubscriptionTest, SubscribeAndUnsubscribeNamesAndStar) {
  Subscription sub(ResourceType::kListener);
  sub.ApplyDelta(List({"a", "b"}), List({}), true);
  sub.ApplyDelta(List({"*", "c"}), List({"a"}), false);
  EXPECT_TRUE(sub.wildcard());
  EXPECT_THAT(sub.names(), ElementsAre("b", "c"));
  sub.ApplyDelta(List({}), List({"*"}), false);
  EXPECT_FALSE(sub.wildcard());
  EXPECT_FALSE(sub.Wants("a"));
  EXPECT_TRUE(sub.Wants("b"));
}

TEST(DeltaSubscriptionTest, EmptyFirstSubscribeForRoutesIsNothing) {
  Subscription sub(ResourceType::kRoute);
  sub.ApplyDelta(List({}), List({}), true);
  EXPECT_FALSE(sub.wildcard());
  EXPECT_THAT(sub.names(), IsEmpty());
}

}  // namespace
}  // namespace cmesh::xds
