// A single thread that runs queued tasks in order, so leadership callbacks never block the
// election loop and always arrive in the order started → stopped.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace cmesh::leader {

class CallbackThread {
 public:
  CallbackThread();
  ~CallbackThread();  // runs what is queued, then joins
  void Post(std::function<void()> task);
  // Blocks until every task posted so far has run.
  void Drain();

 private:
  void Loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool running_task_ = false;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace cmesh::leader
