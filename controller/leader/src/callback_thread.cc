#include "callback_thread.h"

#include <utility>

namespace cmesh::leader {

CallbackThread::CallbackThread() : thread_([this] { Loop(); }) {}

CallbackThread::~CallbackThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CallbackThread::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
}

void CallbackThread::Drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return tasks_.empty() && !running_task_; });
}

void CallbackThread::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return quit_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // quit_ and nothing left to run
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    running_task_ = true;
    lock.unlock();
    if (task) task();
    lock.lock();
    running_task_ = false;
    cv_.notify_all();
  }
}

}  // namespace cmesh::leader
