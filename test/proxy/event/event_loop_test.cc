#include "cmesh/event/event_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cmesh::event {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;

// Runs the loop on its own thread for the test's lifetime.
class LoopThread {
 public:
  LoopThread() : thread_([this] { loop.Run(); }) {}
  ~LoopThread() {
    loop.Stop();
    thread_.join();
  }
  EventLoop loop;

 private:
  std::thread thread_;
};

TEST(EventLoopTest, TimersRunInDueOrderAndCancelledOnesNever) {
  EventLoop loop;
  ASSERT_TRUE(loop.ok()) << loop.error();
  std::vector<int> order;
  loop.RunAfter(milliseconds(30), [&] { order.push_back(3); });
  loop.RunAfter(milliseconds(10), [&] { order.push_back(1); });
  const TimerId cancelled = loop.RunAfter(milliseconds(20), [&] { order.push_back(2); });
  loop.RunAfter(milliseconds(40), [&] { loop.Stop(); });
  loop.Cancel(cancelled);
  const auto start = Clock::now();
  loop.Run();
  EXPECT_THAT(order, ElementsAre(1, 3));
  EXPECT_GE(Clock::now() - start, milliseconds(40));  // timers never fire early
}

TEST(EventLoopTest, PostedTasksRunOnTheLoopThread) {
  LoopThread t;
  std::atomic<std::thread::id> ran_on{};
  std::atomic<int> count{0};
  for (int i = 0; i < 100; ++i) {
    t.loop.Post([&] {
      ran_on = std::this_thread::get_id();
      ++count;
    });
  }
  for (int i = 0; i < 500 && count < 100; ++i) std::this_thread::sleep_for(milliseconds(2));
  EXPECT_EQ(count, 100);
  EXPECT_NE(ran_on.load(), std::this_thread::get_id());
}

struct PipeWatcher : IoWatcher {
  PipeWatcher(EventLoop& loop, int fd) : loop(loop), fd(fd) {}
  void OnReady(std::uint32_t ready) override {
    char buffer[64];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) data.append(buffer, static_cast<std::size_t>(n));
    if (n == 0 || (ready & kClosed)) {
      closed = true;
      loop.Remove(fd);  // removing itself from inside its own callback
      loop.Stop();
    }
  }
  EventLoop& loop;
  int fd;
  std::string data;
  bool closed = false;
};

TEST(EventLoopTest, ReadableAndHangUpReachTheWatcher) {
  EventLoop loop;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  PipeWatcher watcher(loop, fds[0]);
  ASSERT_TRUE(loop.Add(fds[0], false, &watcher));
  std::thread writer([&] {
    ASSERT_EQ(::write(fds[1], "hello", 5), 5);
    std::this_thread::sleep_for(milliseconds(20));
    ::close(fds[1]);
  });
  loop.Run();
  writer.join();
  EXPECT_EQ(watcher.data, "hello");
  EXPECT_TRUE(watcher.closed);
  ::close(fds[0]);
}

}  // namespace
}  // namespace cmesh::event
