#include "cmesh/pipeline/scheduler.h"

#include <algorithm>

namespace cmesh::pipeline {

namespace {
bool Later(const std::pair<SteadyTime, std::function<void()>>& a,
           const std::pair<SteadyTime, std::function<void()>>& b) {
  return a.first > b.first;
}
}  // namespace

ThreadScheduler::ThreadScheduler() : thread_([this] { Run(); }) {}

ThreadScheduler::~ThreadScheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ThreadScheduler::ScheduleAt(SteadyTime when, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.emplace_back(when, std::move(task));
    std::push_heap(tasks_.begin(), tasks_.end(), Later);
  }
  wake_.notify_all();
}

void ThreadScheduler::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const SteadyTime next = tasks_.front().first;
    if (std::chrono::steady_clock::now() < next) {
      wake_.wait_until(lock, next);
      continue;
    }
    std::pop_heap(tasks_.begin(), tasks_.end(), Later);
    std::function<void()> task = std::move(tasks_.back().second);
    tasks_.pop_back();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace cmesh::pipeline
