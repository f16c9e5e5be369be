#include "cmesh/pipeline/scheduler.h"

#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

namespace cmesh::pipeline {
namespace {

using std::chrono::milliseconds;

TEST(ThreadSchedulerTest, RunsTasksInTimeOrderAndNotEarly) {
  ThreadScheduler scheduler;
  std::mutex mutex;
  std::condition_variable done;
  std::vector<int> order;
  std::vector<bool> on_time;
  const SteadyTime start = scheduler.Now();
  auto task = [&](int id, SteadyTime due) {
    return [&, id, due] {
      std::lock_guard lock(mutex);
      on_time.push_back(std::chrono::steady_clock::now() >= due);
      order.push_back(id);
      done.notify_all();
    };
  };
  scheduler.ScheduleAt(start + milliseconds(30), task(2, start + milliseconds(30)));
  scheduler.ScheduleAt(start + milliseconds(10), task(1, start + milliseconds(10)));
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(5), [&] { return order.size() == 2; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(on_time, (std::vector<bool>{true, true}));
}

}  // namespace
}  // namespace cmesh::pipeline
