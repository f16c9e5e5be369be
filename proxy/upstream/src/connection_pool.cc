#include "cmesh/upstream/connection_pool.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cmesh::upstream {
namespace {

using std::chrono::milliseconds;

// An idle connection is usable while reading it would block: EOF means the upstream closed it,
// and bytes from an upstream that owes us no response mean the stream is out of step.
bool IdleSocketUsable(int fd) {
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool Connected(int fd) {
  sockaddr_storage peer;
  socklen_t len = sizeof peer;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
}

}  // namespace

PoolOptions PoolOptionsFor(const ClusterInfo& cluster, milliseconds idle_cap, std::size_t max_idle) {
  PoolOptions options;
  options.source_addresses = cluster.source_addresses;
  options.connect_timeout = cluster.connect_timeout;
  options.max_requests_per_connection = cluster.max_requests_per_connection;
  options.max_idle = max_idle;
  // 0 means "none" on either side: the other one applies.
  if (cluster.idle_timeout.count() == 0) {
    options.idle_timeout = idle_cap;
  } else if (idle_cap.count() == 0) {
    options.idle_timeout = cluster.idle_timeout;
  } else {
    options.idle_timeout = std::min(cluster.idle_timeout, idle_cap);
  }
  return options;
}

// ---- UpstreamConnection ----

UpstreamConnection::~UpstreamConnection() = default;  // the pool closes the fd first

const event::Endpoint& UpstreamConnection::endpoint() const { return pool_.endpoint(); }

void UpstreamConnection::SetReadable(bool readable) {
  if (readable == readable_ || fd_ < 0) return;
  pool_.loop_.Modify(fd_, readable, writable_);
  readable_ = readable;
}

void UpstreamConnection::SetWritable(bool writable) {
  if (writable == writable_ || fd_ < 0) return;
  pool_.loop_.Modify(fd_, readable_, writable);
  writable_ = writable;
}

void UpstreamConnection::OnReady(std::uint32_t ready) {
  // Each branch may destroy this connection: nothing touches a member after the call.
  switch (state_) {
    case State::kConnecting: pool_.OnConnectReady(this, ready); return;
    case State::kIdle: pool_.OnIdleReady(this, ready); return;
    case State::kBusy:
      if (watcher_ != nullptr) watcher_->OnReady(ready);
      return;
    case State::kFailing: return;
  }
}

// ---- ConnectionPool ----

ConnectionPool::ConnectionPool(event::EventLoop& loop, event::Endpoint endpoint, PoolOptions options)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      options_(options),
      source_address_(SourceAddressFor(options_.source_addresses, endpoint_)) {}

ConnectionPool::~ConnectionPool() {
  if (idle_timer_ != 0) loop_.Cancel(idle_timer_);
  if (serve_timer_ != 0) loop_.Cancel(serve_timer_);
  if (runtime_) runtime_->connections.fetch_sub(all_.size(), std::memory_order_relaxed);
  for (auto& c : all_) {
    if (c->timer_ != 0) loop_.Cancel(c->timer_);
    if (c->fd_ >= 0) {
      loop_.Remove(c->fd_);
      ::close(c->fd_);
    }
  }
  // Only touched when requests are still counted, so a balancer destroyed first is fine when
  // the pool is destroyed idle (as it should be).
  if (load_slot_ != nullptr && active_ != 0) *load_slot_ -= static_cast<std::uint32_t>(active_);
}

void ConnectionPool::AddActive(int delta) {
  active_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(active_) + delta);
  if (load_slot_ != nullptr) *load_slot_ += static_cast<std::uint32_t>(delta);
}

void ConnectionPool::SetLoadSlot(std::uint32_t* slot) {
  if (load_slot_ != nullptr) *load_slot_ -= static_cast<std::uint32_t>(active_);
  load_slot_ = slot;
  if (load_slot_ != nullptr) *load_slot_ += static_cast<std::uint32_t>(active_);
}

UpstreamConnection* ConnectionPool::TakeIdle() {
  // Newest first: the warmest connection, the furthest from anyone's idle timeout; the older
  // ones are left to expire when traffic drops.
  while (!idle_.empty()) {
    UpstreamConnection* c = idle_.back();
    idle_.pop_back();
    c->state_ = UpstreamConnection::State::kBusy;
    if (options_.check_on_reuse && event::Clock::now() - c->idle_since_ >= options_.check_on_reuse_after &&
        !IdleSocketUsable(c->fd_)) {
      ++stats_.closed_by_upstream;
      Destroy(c);
      continue;
    }
    c->reused_ = true;
    ++c->requests_;
    c->watcher_ = nullptr;
    ++stats_.reused;
    return c;
  }
  return nullptr;
}

bool ConnectionPool::AtConnectionLimit() const {
  return runtime_ != nullptr && runtime_->connections.load(std::memory_order_relaxed) >= runtime_->max_connections();
}

ConnectionPool::Acquired ConnectionPool::Acquire(PoolCallbacks& callbacks, bool fresh) {
  AddActive(+1);
  if (!fresh) {
    if (UpstreamConnection* c = TakeIdle()) return {c, nullptr};
  }
  Acquired result;
  if (AtConnectionLimit()) {
    result.cx_overflow = true;
    ++stats_.cx_overflow;
    runtime_->stats.upstream_cx_overflow.fetch_add(1, std::memory_order_relaxed);
    if (!all_.empty()) {
      waiting_.push_back(&callbacks);
      result.queued = true;
      return result;
    }
  }
  result.pending = StartConnect(&callbacks);
  return result;
}

UpstreamConnection* ConnectionPool::StartConnect(PoolCallbacks* callbacks) {
  ++stats_.connect_attempts;
  std::string error;
  const int fd = event::ConnectTcpFrom(endpoint_, source_address_, &error);
  all_.push_back(std::unique_ptr<UpstreamConnection>(new UpstreamConnection(*this, fd)));
  if (runtime_) runtime_->connections.fetch_add(1, std::memory_order_relaxed);
  UpstreamConnection* c = all_.back().get();
  c->slot_ = all_.size() - 1;
  c->generation_ = generation_;
  c->callbacks_ = callbacks;
  if (fd >= 0 && !loop_.Add(fd, /*writable=*/true, c)) {
    error = "connect to " + endpoint_.ToString() + ": epoll_ctl: " + std::strerror(errno);
    ::close(fd);
    c->fd_ = -1;
  }
  if (c->fd_ < 0) {
    // Failed at once (e.g. no route): reported from the loop like any other failure, so the
    // caller is never called back from inside Acquire.
    c->state_ = UpstreamConnection::State::kFailing;
    c->failure_ = std::move(error);
    c->timer_ = loop_.RunAfter(milliseconds(0), [this, c] {
      c->timer_ = 0;
      std::string detail = std::move(c->failure_);
      FailPending(c, PoolFailure::kConnectFailure, std::move(detail));
    });
    return c;
  }
  c->timer_ = loop_.RunAfter(options_.connect_timeout, [this, c] {
    c->timer_ = 0;
    OnConnectTimeout(c);
  });
  return c;
}

void ConnectionPool::CancelWaiting(PoolCallbacks& callbacks) {
  auto it = std::find(waiting_.begin(), waiting_.end(), &callbacks);
  if (it == waiting_.end()) return;
  waiting_.erase(it);
  AddActive(-1);
}

void ConnectionPool::AttachRuntime(std::shared_ptr<ClusterRuntime> runtime) {
  if (runtime == runtime_) return;
  if (runtime_) runtime_->connections.fetch_sub(all_.size(), std::memory_order_relaxed);
  runtime_ = std::move(runtime);
  if (runtime_) runtime_->connections.fetch_add(all_.size(), std::memory_order_relaxed);
}

// Waiters are served from the loop (a zero timer), never from inside the Release or close
// that made room: the caller of those is in the middle of its own exchange.
void ConnectionPool::ScheduleServeWaiting() {
  if (waiting_.empty() || serve_timer_ != 0) return;
  serve_timer_ = loop_.RunAfter(milliseconds(0), [this] {
    serve_timer_ = 0;
    ServeWaiting();
  });
}

void ConnectionPool::ServeWaiting() {
  while (!waiting_.empty()) {
    PoolCallbacks* next = waiting_.front();
    if (UpstreamConnection* c = TakeIdle()) {
      waiting_.erase(waiting_.begin());
      next->OnPoolReady(*c);
      continue;
    }
    if (AtConnectionLimit() && !all_.empty()) return;  // still full: wait for the next release
    waiting_.erase(waiting_.begin());
    StartConnect(next);
  }
}

void ConnectionPool::Cancel(UpstreamConnection* pending) {
  if (pending->callbacks_ == nullptr) return;
  pending->callbacks_ = nullptr;
  AddActive(-1);
  if (pending->state_ == UpstreamConnection::State::kFailing) Destroy(pending);
}

void ConnectionPool::Release(UpstreamConnection* c, bool keep_alive) {
  AddActive(-1);
  c->watcher_ = nullptr;
  const bool spent = options_.max_requests_per_connection != 0 && c->requests_ >= options_.max_requests_per_connection;
  if (!keep_alive || spent || c->generation_ != generation_ || options_.max_idle == 0) {
    Destroy(c);
    return;
  }
  c->SetWritable(false);
  c->SetReadable(true);  // idle connections are watched for the upstream closing them
  MakeIdle(c);
}

int ConnectionPool::Detach(UpstreamConnection* c) {
  AddActive(-1);
  c->watcher_ = nullptr;
  const int fd = c->fd_;
  loop_.Remove(fd);
  c->fd_ = -1;  // Destroy leaves a socket it no longer has
  Destroy(c);
  return fd;
}

void ConnectionPool::Drain() {
  ++generation_;
  while (!idle_.empty()) Destroy(idle_.back());
  // Connects nobody waits for any more would only go idle: close them too.
  for (std::size_t i = all_.size(); i-- > 0;) {
    UpstreamConnection* c = all_[i].get();
    if (c->callbacks_ == nullptr && c->state_ == UpstreamConnection::State::kConnecting) Destroy(c);
  }
}

void ConnectionPool::OnConnectReady(UpstreamConnection* c, std::uint32_t ready) {
  const int err = event::ConnectResult(c->fd_);
  if (err != 0) {
    FailPending(c, PoolFailure::kConnectFailure,
                "connect to " + endpoint_.ToString() + ": " + std::strerror(err));
    return;
  }
  if (!Connected(c->fd_)) {
    // Still connecting (a stale event), unless the socket was hung up on.
    if (ready & event::kClosed) {
      FailPending(c, PoolFailure::kConnectFailure, "connect to " + endpoint_.ToString() + ": connection closed");
    }
    return;
  }
  loop_.Cancel(c->timer_);
  c->timer_ = 0;
  c->SetWritable(false);
  PoolCallbacks* callbacks = c->callbacks_;
  c->callbacks_ = nullptr;
  if (callbacks == nullptr) {
    // Cancelled while connecting: a warm connection for the next request.
    if (c->generation_ == generation_ && options_.max_idle > 0) {
      MakeIdle(c);
    } else {
      Destroy(c);
    }
    return;
  }
  c->state_ = UpstreamConnection::State::kBusy;
  c->reused_ = false;
  c->requests_ = 1;
  callbacks->OnPoolReady(*c);
}

void ConnectionPool::OnConnectTimeout(UpstreamConnection* c) {
  FailPending(c, PoolFailure::kTimeout,
              "connect to " + endpoint_.ToString() + ": timed out after " +
                  std::to_string(options_.connect_timeout.count()) + " ms");
}

void ConnectionPool::FailPending(UpstreamConnection* c, PoolFailure reason, std::string detail) {
  if (reason == PoolFailure::kTimeout) {
    ++stats_.connect_timeouts;
  } else {
    ++stats_.connect_failures;
  }
  PoolCallbacks* callbacks = c->callbacks_;
  Destroy(c);
  if (callbacks != nullptr) {
    AddActive(-1);
    callbacks->OnPoolFailure(reason, detail);
  }
}

void ConnectionPool::OnIdleReady(UpstreamConnection* c, std::uint32_t ready) {
  // Level-triggered: a spurious wake-up (nothing to read, not hung up) leaves it idle.
  if (!(ready & event::kClosed) && IdleSocketUsable(c->fd_)) return;
  ++stats_.closed_by_upstream;
  Destroy(c);
}

void ConnectionPool::MakeIdle(UpstreamConnection* c) {
  c->state_ = UpstreamConnection::State::kIdle;
  c->idle_since_ = event::Clock::now();
  idle_.push_back(c);
  if (idle_.size() > options_.max_idle) {
    // Over the cap: the oldest goes, it is the nearest to an idle timeout on either side.
    ++stats_.idle_overflow;
    Destroy(idle_.front());
  }
  ArmIdleTimer();
  ScheduleServeWaiting();
}

void ConnectionPool::RemoveIdle(UpstreamConnection* c) {
  auto it = std::find(idle_.begin(), idle_.end(), c);
  if (it != idle_.end()) idle_.erase(it);
}

void ConnectionPool::Destroy(UpstreamConnection* c) {
  if (c->state_ == UpstreamConnection::State::kIdle) RemoveIdle(c);
  if (c->timer_ != 0) loop_.Cancel(c->timer_);
  if (c->fd_ >= 0) {
    loop_.Remove(c->fd_);
    ::close(c->fd_);
    c->fd_ = -1;
  }
  const std::size_t slot = c->slot_;
  if (slot + 1 != all_.size()) {
    all_[slot] = std::move(all_.back());  // frees c
    all_[slot]->slot_ = slot;
  }
  all_.pop_back();
  if (runtime_) runtime_->connections.fetch_sub(1, std::memory_order_relaxed);
  ScheduleServeWaiting();  // room for a new connection
}

// One timer per pool, for the oldest idle connection (not one per connection and request):
// returns and hand-outs cost no timer operation.
void ConnectionPool::ArmIdleTimer() {
  if (options_.idle_timeout.count() == 0 || idle_timer_ != 0 || idle_.empty()) return;
  const auto due = idle_.front()->idle_since_ + options_.idle_timeout;
  const auto wait = std::max(due - event::Clock::now(), event::Clock::duration::zero());
  idle_timer_ = loop_.RunAfter(std::chrono::ceil<milliseconds>(wait), [this] {
    idle_timer_ = 0;
    OnIdleTimer();
  });
}

void ConnectionPool::OnIdleTimer() {
  const auto now = event::Clock::now();
  while (!idle_.empty() && idle_.front()->idle_since_ + options_.idle_timeout <= now) {
    ++stats_.idle_timeouts;
    Destroy(idle_.front());
  }
  ArmIdleTimer();
}

}  // namespace cmesh::upstream
