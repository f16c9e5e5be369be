#include "cmesh/pipeline/debouncer.h"

#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "pipeline_test_util.h"

namespace cmesh::pipeline {
namespace {

using std::chrono::milliseconds;

struct Push {
  ObjectKeySet changed;
  SteadyTime first_event;
};

ObjectKeySet Keys(std::initializer_list<const char*> names) {
  ObjectKeySet keys;
  for (const char* name : names) keys.insert({"VirtualService", "default", name});
  return keys;
}

class DebouncerTest : public ::testing::Test {
 protected:
  testing::ManualScheduler clock_;
  std::vector<Push> pushes_;
  Debouncer debouncer_{clock_, DebounceOptions{},
                       [this](ObjectKeySet changed, SteadyTime first) { pushes_.push_back({std::move(changed), first}); }};
};

TEST_F(DebouncerTest, DefaultsAreIstiosQuietAndMax) {
  const DebounceOptions options;
  EXPECT_EQ(options.quiet, milliseconds(100));
  EXPECT_EQ(options.max, milliseconds(1000));
}

TEST_F(DebouncerTest, PushesAfterTheQuietPeriod) {
  const SteadyTime t0 = clock_.Now();
  debouncer_.Submit(Keys({"a"}));
  clock_.Advance(milliseconds(99));
  EXPECT_TRUE(pushes_.empty());
  clock_.Advance(milliseconds(1));
  ASSERT_EQ(pushes_.size(), 1u);
  EXPECT_EQ(pushes_[0].changed, Keys({"a"}));
  EXPECT_EQ(pushes_[0].first_event, t0);
  EXPECT_EQ(debouncer_.pending(), 0u);
}

TEST_F(DebouncerTest, EventsWithinTheQuietPeriodAreMerged) {
  const SteadyTime t0 = clock_.Now();
  debouncer_.Submit(Keys({"a"}));
  clock_.Advance(milliseconds(60));
  debouncer_.Submit(Keys({"b"}));
  clock_.Advance(milliseconds(60));  // 120 ms after a, 60 after b: still quiet-waiting
  debouncer_.Submit(Keys({"a", "c"}));
  clock_.Advance(milliseconds(99));
  EXPECT_TRUE(pushes_.empty());
  clock_.Advance(milliseconds(1));
  ASSERT_EQ(pushes_.size(), 1u);
  EXPECT_EQ(pushes_[0].changed, Keys({"a", "b", "c"}));
  EXPECT_EQ(pushes_[0].first_event, t0);
}

TEST_F(DebouncerTest, SteadyStreamIsPushedAtTheMaximumDelay) {
  const SteadyTime t0 = clock_.Now();
  // An event every 50 ms never leaves 100 ms of quiet; the push must still come at 1 s.
  for (int i = 0; i < 19; ++i) {
    debouncer_.Submit(Keys({"a"}));
    clock_.Advance(milliseconds(50));
  }
  debouncer_.Submit(Keys({"b"}));  // at 950 ms
  clock_.Advance(milliseconds(49));
  EXPECT_TRUE(pushes_.empty());
  clock_.Advance(milliseconds(1));  // 1000 ms after the first event
  ASSERT_EQ(pushes_.size(), 1u);
  EXPECT_EQ(pushes_[0].changed, Keys({"a", "b"}));
  EXPECT_EQ(pushes_[0].first_event, t0);
}

TEST_F(DebouncerTest, ANewBurstStartsAfterAPush) {
  debouncer_.Submit(Keys({"a"}));
  clock_.Advance(milliseconds(100));
  const SteadyTime t1 = clock_.Now();
  debouncer_.Submit(Keys({"b"}));
  clock_.Advance(milliseconds(100));
  ASSERT_EQ(pushes_.size(), 2u);
  EXPECT_EQ(pushes_[1].changed, Keys({"b"}));  // "a" is not pushed twice
  EXPECT_EQ(pushes_[1].first_event, t1);
}

TEST_F(DebouncerTest, NothingHappensWithoutEvents) {
  clock_.Advance(milliseconds(5000));
  EXPECT_TRUE(pushes_.empty());
}

TEST(DebouncerDestructionTest, TimerAfterDestructionDoesNothing) {
  testing::ManualScheduler clock;
  int calls = 0;
  {
    Debouncer debouncer(clock, DebounceOptions{}, [&](ObjectKeySet, SteadyTime) { ++calls; });
    debouncer.Submit(Keys({"a"}));
  }
  clock.Advance(milliseconds(200));
  EXPECT_EQ(calls, 0);
}

TEST(DebouncerThreadTest, ConcurrentSubmitsAreAllDelivered) {
  testing::ManualScheduler clock;
  std::mutex mutex;
  ObjectKeySet seen;
  Debouncer debouncer(clock, DebounceOptions{}, [&](ObjectKeySet changed, SteadyTime) {
    std::lock_guard lock(mutex);
    seen.merge(changed);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) debouncer.Submit({{"Service", "ns", std::to_string(t * 100 + i)}});
    });
  }
  for (auto& thread : threads) thread.join();
  clock.Advance(milliseconds(100));
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.size(), 400u);
}

}  // namespace
}  // namespace cmesh::pipeline
