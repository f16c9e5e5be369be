#include "cmesh/xds/name_set.h"

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cmesh::xds {
namespace {

using ::testing::ElementsAre;

TEST(NameSetTest, SortedUniqueAndSearchable) {
  NameSetPtr set = InternNameSet({"b", "a", "c", "a"});
  EXPECT_THAT(*set, ElementsAre("a", "b", "c"));
  EXPECT_TRUE(set->contains("b"));
  EXPECT_FALSE(set->contains("d"));
  EXPECT_FALSE(set->contains(""));
  EXPECT_TRUE(InternNameSet({})->empty());
}

TEST(NameSetTest, EqualContentsShareOneObjectWhileHeld) {
  NameSetPtr a = InternNameSet({"outbound|9080||a", "outbound|9080||b"});
  NameSetPtr b = InternNameSet({"outbound|9080||b", "outbound|9080||a"});
  EXPECT_EQ(a, b);  // one copy of the names for every stream subscribing to them
  EXPECT_NE(a, InternNameSet({"outbound|9080||a"}));
  EXPECT_EQ(InternNameSet({}), InternNameSet({}));
}

TEST(NameSetTest, ConcurrentInterningAgrees) {
  std::vector<NameSetPtr> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&results, i] { results[i] = InternNameSet({"x", "y", std::to_string(42)}); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, results[0]);
}

}  // namespace
}  // namespace cmesh::xds
