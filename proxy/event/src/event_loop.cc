#include "cmesh/event/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace cmesh::event {
namespace {

std::uint32_t EpollEvents(bool readable, bool writable) {
  return (readable ? EPOLLIN | EPOLLRDHUP : 0u) | (writable ? EPOLLOUT : 0u);
}

}  // namespace

EventLoop::EventLoop() : now_(Clock::now()) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    error_ = std::string("epoll_create1: ") + std::strerror(errno);
    return;
  }
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    error_ = std::string("eventfd: ") + std::strerror(errno);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    error_ = std::string("epoll_ctl(eventfd): ") + std::strerror(errno);
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
}

EventLoop::~EventLoop() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

bool EventLoop::Add(int fd, bool writable, IoWatcher* watcher) {
  epoll_event ev{};
  ev.events = EpollEvents(true, writable);
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  watchers_[fd] = watcher;
  return true;
}

bool EventLoop::Modify(int fd, bool writable) { return Modify(fd, true, writable); }

bool EventLoop::Modify(int fd, bool readable, bool writable) {
  epoll_event ev{};
  ev.events = EpollEvents(readable, writable);
  ev.data.fd = fd;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::Remove(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  watchers_.erase(fd);
}

TimerId EventLoop::RunAfter(std::chrono::milliseconds delay, std::function<void()> task) {
  const TimerId id = next_timer_++;
  const Clock::time_point due = Clock::now() + delay;
  timers_.emplace(std::make_pair(due, id), std::move(task));
  timer_due_.emplace(id, due);
  return id;
}

void EventLoop::Cancel(TimerId id) {
  auto it = timer_due_.find(id);
  if (it == timer_due_.end()) return;
  timers_.erase({it->second, id});
  timer_due_.erase(it);
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::Stop() {
  {
    std::lock_guard lock(posted_mutex_);
    stop_requested_ = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

int EventLoop::NextTimeoutMs() const {
  if (timers_.empty()) return -1;
  const auto wait = timers_.begin()->first.first - Clock::now();
  if (wait <= Clock::duration::zero()) return 0;
  // Round up, so a timer is never woken for early.
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
}

void EventLoop::RunTimers() {
  now_ = Clock::now();
  while (!timers_.empty() && timers_.begin()->first.first <= now_) {
    auto node = timers_.extract(timers_.begin());
    timer_due_.erase(node.key().second);
    node.mapped()();
  }
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
    if (stop_requested_) stopping_ = true;
  }
  for (auto& task : tasks) task();
}

void EventLoop::Run() {
  constexpr int kBatch = 128;
  epoll_event events[kBatch];
  RunPosted();
  while (!stopping_) {
    const int n = ::epoll_wait(epoll_fd_, events, kBatch, NextTimeoutMs());
    now_ = Clock::now();
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        std::uint64_t count;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &count, sizeof count);
        continue;
      }
      // Looked up per event: an earlier watcher of this batch may have removed this fd.
      auto it = watchers_.find(fd);
      if (it == watchers_.end()) continue;
      std::uint32_t ready = 0;
      if (events[i].events & EPOLLIN) ready |= kReadable;
      if (events[i].events & EPOLLOUT) ready |= kWritable;
      if (events[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) ready |= kClosed;
      it->second->OnReady(ready);
    }
    RunTimers();
    RunPosted();
  }
}

}  // namespace cmesh::event
