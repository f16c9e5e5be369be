// Time for the push pipeline, injected so that tests drive it by hand without sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace cmesh::pipeline {

using SteadyTime = std::chrono::steady_clock::time_point;

// Runs one-shot tasks at a time point. Tasks may run later than asked, never earlier.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual SteadyTime Now() const = 0;
  virtual void ScheduleAt(SteadyTime when, std::function<void()> task) = 0;
};

// The production Scheduler: one thread running tasks in time order. Stops (dropping pending
// tasks) when destroyed.
class ThreadScheduler final : public Scheduler {
 public:
  ThreadScheduler();
  ~ThreadScheduler() override;
  ThreadScheduler(const ThreadScheduler&) = delete;
  ThreadScheduler& operator=(const ThreadScheduler&) = delete;
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  void ScheduleAt(SteadyTime when, std::function<void()> task) override;

 private:
  void Run();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::pair<SteadyTime, std::function<void()>>> tasks_;  // a heap by time
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cmesh::pipeline
