// One worker's event loop: epoll (level-triggered) over non-blocking file descriptors, one-shot
// timers, and tasks posted from other threads (the only way into a worker, e.g. a new config
// snapshot). Everything registered runs on the loop's thread; nothing here takes a lock on the
// I/O path (Post takes a short one, on the config path only).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace cmesh::event {

using Clock = std::chrono::steady_clock;
using TimerId = std::uint64_t;

// What a file descriptor is ready for (a bit set).
enum Ready : std::uint32_t { kReadable = 1, kWritable = 2, kClosed = 4 /* hang-up or error */ };

// Implemented by whatever owns a file descriptor (a listener, a connection). The loop holds a
// plain pointer: no allocation per event; the owner removes the fd before it goes away.
class IoWatcher {
 public:
  virtual ~IoWatcher() = default;
  virtual void OnReady(std::uint32_t ready) = 0;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // False when epoll or the wake-up eventfd could not be created (see error()).
  bool ok() const { return epoll_fd_ >= 0 && wake_fd_ >= 0; }
  const std::string& error() const { return error_; }

  // Watches `fd` for readability, and for writability when `writable`. `watcher` runs on the
  // loop thread with the Ready bits; it may Modify or Remove any fd, its own included, and
  // delete itself after removing its fd.
  bool Add(int fd, bool writable, IoWatcher* watcher);
  bool Modify(int fd, bool writable);
  // Also stops (or resumes) readability: a side that cannot take more data is not read.
  bool Modify(int fd, bool readable, bool writable);
  void Remove(int fd);  // does not close the fd

  // Runs `task` once after `delay` on the loop thread. Cancel before it runs to drop it.
  TimerId RunAfter(std::chrono::milliseconds delay, std::function<void()> task);
  void Cancel(TimerId id);

  // Thread-safe: runs `task` on the loop thread soon (wakes the loop if it waits).
  void Post(std::function<void()> task);

  // Runs until Stop() (thread-safe). Returns when stopped.
  void Run();
  void Stop();
  // After Run returned (on the thread that owns the loop now): runs what was posted since, such
  // as the deferred deletions of connections closed at shutdown.
  void RunPostedForShutdown() { RunPosted(); }

  // Loop-thread time, refreshed once per iteration (cheap for per-request timestamps).
  Clock::time_point now() const { return now_; }

 private:
  void RunTimers();
  void RunPosted();
  int NextTimeoutMs() const;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::string error_;
  Clock::time_point now_;
  bool stopping_ = false;

  std::unordered_map<int, IoWatcher*> watchers_;
  std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, Clock::time_point> timer_due_;
  TimerId next_timer_ = 1;

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  bool stop_requested_ = false;  // under posted_mutex_
};

}  // namespace cmesh::event
