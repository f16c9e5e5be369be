// The pool against real loopback listeners, on a real EventLoop thread. The test thread plays
// the upstream with plain sockets; every pool call runs on the loop thread (RunSync).
#include "cmesh/upstream/connection_pool.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/upstream/load_balancer.h"

namespace cmesh::upstream {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr milliseconds kDeadline{5000};  // generous: only a broken pool waits this long

class LoopThread {
 public:
  LoopThread() : thread_([this] { loop.Run(); }) {}
  ~LoopThread() {
    loop.Stop();
    thread_.join();
  }
  template <typename F>
  auto RunSync(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    loop.Post([&task] { task(); });
    return result.get();
  }
  event::EventLoop loop;

 private:
  std::thread thread_;
};

// Polls `done` (on the loop thread) until it holds or the deadline passes.
template <typename F>
bool Eventually(LoopThread& t, F done) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < until) {
    if (t.RunSync(done)) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return false;
}

// The upstream: a loopback listener the test thread accepts from.
class Upstream {
 public:
  Upstream() {
    std::string error;
    fd_ = event::ListenTcp({"127.0.0.1", 0}, false, &error);
    EXPECT_GE(fd_, 0) << error;
    endpoint = *event::LocalEndpoint(fd_);
  }
  ~Upstream() {
    for (int fd : accepted) ::close(fd);
    ::close(fd_);
  }
  // The next connection, or -1 when none arrives within `wait`.
  int Accept(milliseconds wait = kDeadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return -1;
    const int fd = event::AcceptTcp(fd_, nullptr);
    if (fd >= 0) accepted.push_back(fd);
    return fd;
  }
  event::Endpoint endpoint;
  std::vector<int> accepted;

 private:
  int fd_ = -1;
};

// True when the peer closed `fd` within the deadline (read returns 0).
bool SeesEof(int fd, milliseconds wait = kDeadline) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return false;
  char buffer[64];
  return ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) == 0;
}

// True when the peer closed `fd` or reset it (a socket closed with unread bytes sends a RST).
bool SeesCloseOrReset(int fd, milliseconds wait = kDeadline) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return false;
  char buffer[64];
  const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

struct Recorder : PoolCallbacks {
  void OnPoolReady(UpstreamConnection& c) override {
    connection = &c;
    ++ready;
  }
  void OnPoolFailure(PoolFailure r, std::string_view d) override {
    reason = r;
    detail = std::string(d);
    ++failed;
  }
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  UpstreamConnection* connection = nullptr;
  PoolFailure reason{};
  std::string detail;
};

PoolOptions Options() {
  PoolOptions o;
  o.connect_timeout = milliseconds(2000);
  return o;
}

class ConnectionPoolTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pool) t.RunSync([&] { pool.reset(); });
  }
  void MakePool(PoolOptions options) { pool = std::make_unique<ConnectionPool>(t.loop, upstream.endpoint, options); }
  // Acquires a fresh connection and waits for it (and for the upstream's side of it).
  UpstreamConnection* Connect(Recorder& r, int* server_fd = nullptr) {
    auto acquired = t.RunSync([&] { return pool->Acquire(r); });
    EXPECT_EQ(acquired.ready, nullptr);
    EXPECT_NE(acquired.pending, nullptr);
    const int fd = upstream.Accept();
    EXPECT_GE(fd, 0);
    if (server_fd) *server_fd = fd;
    EXPECT_TRUE(Eventually(t, [&] { return r.ready.load() == 1; }));
    return r.connection;
  }

  LoopThread t;
  Upstream upstream;
  std::unique_ptr<ConnectionPool> pool;
};

TEST_F(ConnectionPoolTest, ConnectsThenReusesAKeptAliveConnection) {
  MakePool(Options());
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->reused());
  EXPECT_EQ(c->requests(), 1u);
  EXPECT_EQ(c->endpoint().ToString(), upstream.endpoint.ToString());
  // A real connection to the upstream.
  ASSERT_EQ(::send(c->fd(), "ping", 4, MSG_NOSIGNAL), 4);
  char buffer[8] = {};
  ASSERT_EQ(::recv(server, buffer, sizeof buffer, 0), 4);
  EXPECT_STREQ(buffer, "ping");

  const int first_fd = c->fd();
  t.RunSync([&] {
    EXPECT_EQ(pool->active(), 1u);
    pool->Release(c, /*keep_alive=*/true);
    EXPECT_EQ(pool->active(), 0u);
    EXPECT_EQ(pool->idle(), 1u);
  });
  Recorder r2;
  auto again = t.RunSync([&] { return pool->Acquire(r2); });
  ASSERT_NE(again.ready, nullptr);  // at once, no connect
  EXPECT_EQ(again.pending, nullptr);
  EXPECT_EQ(again.ready->fd(), first_fd);
  EXPECT_TRUE(again.ready->reused());
  EXPECT_EQ(again.ready->requests(), 2u);
  EXPECT_EQ(upstream.Accept(milliseconds(100)), -1);  // the upstream saw one connection only
  t.RunSync([&] {
    EXPECT_EQ(pool->stats().connect_attempts, 1u);
    EXPECT_EQ(pool->stats().reused, 1u);
    pool->Release(again.ready, false);
  });
  EXPECT_EQ(r2.ready + r2.failed, 0);  // a ready hand-out is not also called back
}

TEST_F(ConnectionPoolTest, AFreshAcquireSkipsIdleConnections) {
  MakePool(Options());
  Recorder r;
  UpstreamConnection* c = Connect(r);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] { pool->Release(c, true); });
  Recorder r2;
  auto acquired = t.RunSync([&] { return pool->Acquire(r2, /*fresh=*/true); });
  EXPECT_EQ(acquired.ready, nullptr);  // a new connect although one is idle
  ASSERT_NE(acquired.pending, nullptr);
  ASSERT_GE(upstream.Accept(), 0);
  ASSERT_TRUE(Eventually(t, [&] { return r2.ready == 1; }));
  EXPECT_FALSE(r2.connection->reused());
  t.RunSync([&] {
    EXPECT_EQ(pool->idle(), 1u);  // the idle one is still there
    pool->Release(r2.connection, true);
    EXPECT_EQ(pool->idle(), 2u);
  });
}

TEST_F(ConnectionPoolTest, ReleaseWithoutKeepAliveCloses) {
  MakePool(Options());
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] { pool->Release(c, /*keep_alive=*/false); });
  EXPECT_TRUE(SeesEof(server));
  t.RunSync([&] {
    EXPECT_EQ(pool->idle(), 0u);
    EXPECT_EQ(pool->connections(), 0u);
  });
}

TEST_F(ConnectionPoolTest, BusyConnectionReadinessGoesToTheCallersWatcher) {
  MakePool(Options());
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  struct Watcher : event::IoWatcher {
    void OnReady(std::uint32_t ready) override { bits |= ready; }
    std::atomic<std::uint32_t> bits{0};
  } watcher;
  t.RunSync([&] {
    c->SetWatcher(&watcher);
    c->SetWritable(true);
  });
  EXPECT_TRUE(Eventually(t, [&] { return (watcher.bits & event::kWritable) != 0; }));
  t.RunSync([&] { c->SetWritable(false); });
  ASSERT_EQ(::send(server, "HTTP/1.1 200 OK\r\n", 17, MSG_NOSIGNAL), 17);
  EXPECT_TRUE(Eventually(t, [&] { return (watcher.bits & event::kReadable) != 0; }));
  char buffer[32];
  t.RunSync([&] {
    EXPECT_EQ(::recv(c->fd(), buffer, sizeof buffer, 0), 17);
    pool->Release(c, true);
  });
}

TEST_F(ConnectionPoolTest, IdleConnectionClosedByTheUpstreamIsDiscarded) {
  PoolOptions o = Options();
  o.check_on_reuse = false;  // only the idle watch can notice here
  MakePool(o);
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] { pool->Release(c, true); });
  ::shutdown(server, SHUT_RDWR);  // the upstream's keep-alive timeout fires
  EXPECT_TRUE(Eventually(t, [&] { return pool->idle() == 0 && pool->connections() == 0; }));
  t.RunSync([&] { EXPECT_EQ(pool->stats().closed_by_upstream, 1u); });
  // The next request gets a fresh connection.
  Recorder r2;
  auto next = t.RunSync([&] { return pool->Acquire(r2); });
  EXPECT_EQ(next.ready, nullptr);
  ASSERT_NE(next.pending, nullptr);
  ASSERT_GE(upstream.Accept(), 0);
  ASSERT_TRUE(Eventually(t, [&] { return r2.ready == 1; }));
  EXPECT_FALSE(r2.connection->reused());
  t.RunSync([&] { pool->Release(r2.connection, false); });
}

TEST_F(ConnectionPoolTest, IdleConnectionThatReceivesBytesIsDiscarded) {
  MakePool(Options());
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] { pool->Release(c, true); });
  // E.g. a late "408 Request Timeout": the stream is out of step, the connection unusable.
  ASSERT_GT(::send(server, "HTTP/1.1 408 Request Timeout\r\n\r\n", 32, MSG_NOSIGNAL), 0);
  EXPECT_TRUE(Eventually(t, [&] { return pool->idle() == 0; }));
  EXPECT_TRUE(SeesCloseOrReset(server));
}

TEST_F(ConnectionPoolTest, ACloseNotYetSeenByTheLoopIsCaughtAtHandOut) {
  PoolOptions o = Options();
  o.check_on_reuse_after = milliseconds(0);  // peek at every hand-out
  MakePool(o);
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] { pool->Release(c, true); });
  Recorder r2;
  // Within one loop task, so the loop has no chance to see the close before Acquire.
  auto next = t.RunSync([&] {
    ::shutdown(server, SHUT_RDWR);
    std::this_thread::sleep_for(milliseconds(50));  // let the FIN cross loopback
    return pool->Acquire(r2);
  });
  EXPECT_EQ(next.ready, nullptr);  // not the dead connection
  EXPECT_NE(next.pending, nullptr);
  t.RunSync([&] { EXPECT_EQ(pool->stats().closed_by_upstream, 1u); });
  ASSERT_GE(upstream.Accept(), 0);
  ASSERT_TRUE(Eventually(t, [&] { return r2.ready == 1; }));
  t.RunSync([&] { pool->Release(r2.connection, false); });
}

// The peek is skipped for a connection idle only a moment (the common case under load): such a
// close is left to the caller's stale-connection retry.
TEST_F(ConnectionPoolTest, AConnectionIdleOnlyAMomentIsHandedOutWithoutAPeek) {
  PoolOptions o = Options();
  o.check_on_reuse_after = milliseconds(60'000);
  MakePool(o);
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] { pool->Release(c, true); });
  auto next = t.RunSync([&] {
    ::shutdown(server, SHUT_RDWR);
    std::this_thread::sleep_for(milliseconds(50));
    return pool->Acquire(r);
  });
  EXPECT_EQ(next.ready, c);  // handed out as it is; reused() tells the caller
  t.RunSync([&] {
    EXPECT_TRUE(c->reused());
    EXPECT_EQ(pool->stats().closed_by_upstream, 0u);
    pool->Release(c, false);
  });
}

TEST_F(ConnectionPoolTest, IdleConnectionsTimeOut) {
  PoolOptions o = Options();
  o.idle_timeout = milliseconds(100);
  MakePool(o);
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] {
    pool->Release(c, true);
    EXPECT_EQ(pool->idle(), 1u);
  });
  // The upstream keeps its end open: the pool closes it, and the upstream sees that.
  EXPECT_TRUE(SeesEof(server));
  t.RunSync([&] {
    EXPECT_EQ(pool->idle(), 0u);
    EXPECT_EQ(pool->stats().idle_timeouts, 1u);
    EXPECT_EQ(pool->stats().closed_by_upstream, 0u);
  });
}

TEST_F(ConnectionPoolTest, IdleConnectionsBeyondTheCapAreClosedOldestFirst) {
  PoolOptions o = Options();
  o.max_idle = 2;
  MakePool(o);
  Recorder r[3];
  UpstreamConnection* c[3];
  int server[3];
  for (int i = 0; i < 3; ++i) {
    c[i] = Connect(r[i], &server[i]);
    ASSERT_NE(c[i], nullptr);
  }
  t.RunSync([&] {
    EXPECT_EQ(pool->active(), 3u);
    for (auto* conn : c) pool->Release(conn, true);
    EXPECT_EQ(pool->idle(), 2u);
    EXPECT_EQ(pool->connections(), 2u);
    EXPECT_EQ(pool->stats().idle_overflow, 1u);
  });
  // Connections were accepted in connect order, and released in the same order: the first
  // released (the oldest idle) is the one closed.
  EXPECT_TRUE(SeesEof(server[0]));
  EXPECT_FALSE(SeesEof(server[1], milliseconds(50)));
  EXPECT_FALSE(SeesEof(server[2], milliseconds(50)));
}

TEST_F(ConnectionPoolTest, NoKeepAliveWhenMaxIdleIsZero) {
  PoolOptions o = Options();
  o.max_idle = 0;
  MakePool(o);
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] { pool->Release(c, true); });
  EXPECT_TRUE(SeesEof(server));
}

TEST_F(ConnectionPoolTest, MaxRequestsPerConnection) {
  PoolOptions o = Options();
  o.max_requests_per_connection = 2;
  MakePool(o);
  Recorder r;
  int server = -1;
  UpstreamConnection* c = Connect(r, &server);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] { pool->Release(c, true); });
  Recorder r2;
  t.RunSync([&] {
    auto second = pool->Acquire(r2);
    ASSERT_NE(second.ready, nullptr);
    EXPECT_EQ(second.ready->requests(), 2u);
    pool->Release(second.ready, true);  // its second request: spent
    EXPECT_EQ(pool->connections(), 0u);
  });
  EXPECT_TRUE(SeesEof(server));
}

TEST_F(ConnectionPoolTest, ConnectRefused) {
  event::Endpoint closed;
  {
    Upstream gone;
    closed = gone.endpoint;
  }  // nothing listens there any more
  pool = std::make_unique<ConnectionPool>(t.loop, closed, Options());
  Recorder r;
  t.RunSync([&] {
    auto acquired = pool->Acquire(r);
    EXPECT_EQ(acquired.ready, nullptr);
    EXPECT_NE(acquired.pending, nullptr);
    EXPECT_EQ(r.failed, 0);  // never from inside Acquire, even when connect() fails at once
  });
  ASSERT_TRUE(Eventually(t, [&] { return r.failed == 1; }));
  EXPECT_EQ(r.ready, 0);
  EXPECT_EQ(r.reason, PoolFailure::kConnectFailure);
  EXPECT_THAT(r.detail, HasSubstr("connect to " + closed.ToString()));
  EXPECT_THAT(r.detail, HasSubstr("refused"));
  t.RunSync([&] {
    EXPECT_EQ(pool->active(), 0u);
    EXPECT_EQ(pool->connections(), 0u);
    EXPECT_EQ(pool->stats().connect_failures, 1u);
  });
}

// A listener with a full accept queue: Linux drops further SYNs, so connects hang until the
// client gives up. Needs no network beyond loopback.
class FullListener {
 public:
  FullListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 0) != 0) return;
    endpoint = *event::LocalEndpoint(fd_);
    // Fill the queue (never accepting) until a connect stops completing.
    for (int i = 0; i < 16 && !full; ++i) {
      std::string error;
      const int client = event::ConnectTcp(endpoint, &error);
      if (client < 0) break;
      clients_.push_back(client);
      pollfd p{client, POLLOUT, 0};
      full = ::poll(&p, 1, 300) == 0;
    }
  }
  ~FullListener() {
    for (int fd : clients_) ::close(fd);
    ::close(fd_);
  }
  event::Endpoint endpoint;
  bool full = false;

 private:
  int fd_ = -1;
  std::vector<int> clients_;
};

TEST_F(ConnectionPoolTest, ConnectTimeout) {
  FullListener listener;
  if (!listener.full) GTEST_SKIP() << "could not fill a listener's accept queue here";
  PoolOptions o = Options();
  o.connect_timeout = milliseconds(100);
  pool = std::make_unique<ConnectionPool>(t.loop, listener.endpoint, o);
  Recorder r;
  t.RunSync([&] { pool->Acquire(r); });
  ASSERT_TRUE(Eventually(t, [&] { return r.failed == 1; }));
  EXPECT_EQ(r.ready, 0);
  EXPECT_EQ(r.reason, PoolFailure::kTimeout);
  EXPECT_THAT(r.detail, HasSubstr("timed out after 100 ms"));
  t.RunSync([&] {
    EXPECT_EQ(pool->active(), 0u);
    EXPECT_EQ(pool->connections(), 0u);
    EXPECT_EQ(pool->stats().connect_timeouts, 1u);
  });
}

TEST_F(ConnectionPoolTest, ACancelledConnectBecomesAnIdleConnection) {
  MakePool(Options());
  Recorder r;
  t.RunSync([&] {
    auto acquired = pool->Acquire(r);
    ASSERT_NE(acquired.pending, nullptr);
    pool->Cancel(acquired.pending);
    EXPECT_EQ(pool->active(), 0u);
  });
  ASSERT_GE(upstream.Accept(), 0);
  EXPECT_TRUE(Eventually(t, [&] { return pool->idle() == 1; }));
  EXPECT_EQ(r.ready + r.failed, 0);
  Recorder r2;
  t.RunSync([&] {
    auto next = pool->Acquire(r2);
    ASSERT_NE(next.ready, nullptr);
    EXPECT_TRUE(next.ready->reused());  // it waited idle: the upstream may have closed it
    pool->Release(next.ready, false);
  });
}

TEST_F(ConnectionPoolTest, DrainClosesIdleNowAndBusyOnRelease) {
  MakePool(Options());
  Recorder r1, r2;
  int s1 = -1, s2 = -1;
  UpstreamConnection* idle = Connect(r1, &s1);
  UpstreamConnection* busy = Connect(r2, &s2);
  ASSERT_NE(idle, nullptr);
  ASSERT_NE(busy, nullptr);
  t.RunSync([&] {
    pool->Release(idle, true);
    pool->Drain();
    EXPECT_EQ(pool->idle(), 0u);
    EXPECT_EQ(pool->connections(), 1u);  // the busy one finishes its request
  });
  EXPECT_TRUE(SeesEof(s1));
  t.RunSync([&] {
    pool->Release(busy, /*keep_alive=*/true);  // but does not go back to the idle list
    EXPECT_EQ(pool->connections(), 0u);
  });
  EXPECT_TRUE(SeesEof(s2));
  Recorder r3;  // and the pool still serves, with new connections
  UpstreamConnection* fresh = Connect(r3);
  ASSERT_NE(fresh, nullptr);
  t.RunSync([&] {
    pool->Release(fresh, true);
    EXPECT_EQ(pool->idle(), 1u);
  });
}

TEST_F(ConnectionPoolTest, ActiveRequestsReachTheLeastRequestBalancer) {
  ClusterInfo cluster;
  cluster.hosts.resize(2);
  LoadBalancer lb(cluster);
  MakePool(Options());
  t.RunSync([&] { pool->SetLoadSlot(lb.ActiveSlot(1)); });
  Recorder r;
  UpstreamConnection* c = Connect(r);
  ASSERT_NE(c, nullptr);
  t.RunSync([&] {
    EXPECT_EQ(lb.active(1), 1u);
    EXPECT_EQ(lb.active(0), 0u);
    pool->Release(c, true);
    EXPECT_EQ(lb.active(1), 0u);
    Recorder pending;
    auto a = pool->Acquire(pending);  // the idle one
    EXPECT_EQ(lb.active(1), 1u);
    pool->SetLoadSlot(lb.ActiveSlot(0));  // moves the count along
    EXPECT_EQ(lb.active(1), 0u);
    EXPECT_EQ(lb.active(0), 1u);
    pool->Release(a.ready, true);
    EXPECT_EQ(lb.active(0), 0u);
  });
}

TEST(PoolOptionsTest, IdleTimeoutIsTheShorterOfClusterAndCap) {
  ClusterInfo cluster;
  cluster.connect_timeout = milliseconds(250);
  cluster.max_requests_per_connection = 10;
  // Envoy's 1 h default: the 55 s cap applies.
  PoolOptions o = PoolOptionsFor(cluster);
  EXPECT_EQ(o.idle_timeout, std::chrono::seconds(55));
  EXPECT_EQ(o.connect_timeout, milliseconds(250));
  EXPECT_EQ(o.max_requests_per_connection, 10u);
  cluster.idle_timeout = std::chrono::seconds(10);  // a DestinationRule's shorter idleTimeout wins
  EXPECT_EQ(PoolOptionsFor(cluster).idle_timeout, std::chrono::seconds(10));
  cluster.idle_timeout = milliseconds(0);  // "no idle timeout" upstream: still the cap
  EXPECT_EQ(PoolOptionsFor(cluster).idle_timeout, std::chrono::seconds(55));
  EXPECT_EQ(PoolOptionsFor(cluster, std::chrono::seconds(30), 4).idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(PoolOptionsFor(cluster, std::chrono::seconds(30), 4).max_idle, 4u);
  EXPECT_EQ(PoolOptionsFor(cluster, milliseconds(0)).idle_timeout.count(), 0);  // neither: none
}

}  // namespace
}  // namespace cmesh::upstream
