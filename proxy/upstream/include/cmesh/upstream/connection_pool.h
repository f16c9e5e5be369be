// One worker's pool of HTTP/1.1 connections to one endpoint. It owns the sockets and their
// lifecycle only (it parses nothing): it hands out an idle keep-alive connection or starts a
// non-blocking connect bounded by the cluster's connect timeout, takes connections back after a
// response that allowed keep-alive, and closes idle ones when the upstream closes them, when
// they have been idle too long, or beyond a cap. Everything runs on the worker's loop thread.
//
// Idle timeout: an idle connection is closed after PoolOptions::idle_timeout, 55 s by default,
// so that we close it before the upstream does: many servers and balancers keep idle
// connections for 60 s or more by default (AWS ALB 60 s, nginx 75 s, recent Node.js 65 s).
// Some close much sooner (Node.js before that change and Apache: 5 s), and no fixed value can
// be below every upstream's, hence the two defences that follow. If the upstream closes first, a request we write at that moment
// meets a closed socket; the pool catches most such closes while idle (EOF or data on an idle
// socket discards it, and a hand-out peeks first), and for the remaining race it tells the
// caller the connection was reused, so a request that failed before a byte was written can be
// retried on a fresh connection. The cluster's own idle timeout (common_http_protocol_options,
// 1 h by default) applies when it is shorter.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cmesh/event/event_loop.h"
#include "cmesh/event/socket.h"
#include "cmesh/upstream/cluster_info.h"
#include "cmesh/upstream/cluster_runtime.h"

namespace cmesh::upstream {

struct PoolOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{55000};  // 0 = never time out idle connections
  std::size_t max_idle = 64;                       // idle connections kept; 0 = no keep-alive
  std::uint32_t max_requests_per_connection = 0;   // 0 = unlimited
  // Peek at an idle connection before handing it out (one recv): catches an upstream close
  // that arrived in the same loop iteration, before its event was seen.
  bool check_on_reuse = true;
  // ... but only for a connection idle at least this long: one that was in use a moment ago is
  // very unlikely to have been closed (servers close after seconds of idleness), and skipping
  // the peek saves a system call per request under load. The stale-connection retry covers the
  // rare race.
  std::chrono::milliseconds check_on_reuse_after{100};
  // The cluster's upstream_bind_config: connections leave from the one of the endpoint's family.
  std::vector<std::string> source_addresses;
};

// The worker's default cap on the idle timeout (see the header comment for why 55 s).
inline constexpr std::chrono::milliseconds kDefaultIdleTimeoutCap{55000};

// A pool's options for `cluster`: its connect timeout and request cap, and the shorter of its
// idle timeout (0 there means none) and `idle_cap`.
PoolOptions PoolOptionsFor(const ClusterInfo& cluster, std::chrono::milliseconds idle_cap = kDefaultIdleTimeoutCap,
                           std::size_t max_idle = 64);

enum class PoolFailure {
  kConnectFailure,  // refused, unreachable, reset while connecting (Envoy's "UF" flag)
  kTimeout,         // no connection within the connect timeout (also "UF", and connect-failure for retries)
};

class UpstreamConnection;

// Where a pending Acquire ends. Exactly one of the two runs, later, on the loop thread (never
// from inside Acquire), unless the caller cancels first.
class PoolCallbacks {
 public:
  virtual ~PoolCallbacks() = default;
  virtual void OnPoolReady(UpstreamConnection& connection) = 0;
  virtual void OnPoolFailure(PoolFailure reason, std::string_view detail) = 0;
};

class ConnectionPool;

// A connection to the endpoint. While handed out, its readiness goes to the caller's watcher
// (SetWatcher) and the caller reads and writes fd() itself; the fd stays registered with the
// loop for the connection's whole life (no epoll_ctl per request), so the caller uses
// SetWritable instead of the loop's Add/Modify/Remove.
class UpstreamConnection final : public event::IoWatcher {
 public:
  ~UpstreamConnection() override;
  int fd() const { return fd_; }
  const event::Endpoint& endpoint() const;
  // True when the connection waited in the idle list before this hand-out: the upstream may
  // have closed it meanwhile, so a request that fails on it before any byte was written can be
  // retried on a fresh one.
  bool reused() const { return reused_; }
  std::uint32_t requests() const { return requests_; }  // hand-outs so far, this one included

  void SetWatcher(event::IoWatcher* watcher) { watcher_ = watcher; }
  // Also wakes the watcher when the socket can take more bytes.
  void SetWritable(bool writable);
  // Stops (false) or resumes reading events, so a caller whose own client is slow does not read
  // more of the upstream's answer than it can pass on. Reset to readable when released.
  void SetReadable(bool readable);

  void OnReady(std::uint32_t ready) override;

 private:
  friend class ConnectionPool;
  enum class State { kConnecting, kFailing, kBusy, kIdle };
  UpstreamConnection(ConnectionPool& pool, int fd) : pool_(pool), fd_(fd) {}

  ConnectionPool& pool_;
  int fd_;
  State state_ = State::kConnecting;
  bool reused_ = false;
  bool writable_ = true;  // epoll interest; a connect waits for writability
  bool readable_ = true;
  std::uint32_t requests_ = 0;
  std::uint64_t generation_ = 0;  // the pool's drain generation when it was opened
  std::size_t slot_ = 0;          // index in the pool's all_
  event::IoWatcher* watcher_ = nullptr;
  PoolCallbacks* callbacks_ = nullptr;  // connecting for a caller (null: cancelled, goes idle)
  event::TimerId timer_ = 0;            // connect timeout, or the deferred failure
  std::string failure_;                 // kFailing: why
  event::Clock::time_point idle_since_{};
};

struct PoolStats {
  std::uint64_t connect_attempts = 0;    // new connections started
  std::uint64_t connect_failures = 0;    // refused, unreachable, reset
  std::uint64_t connect_timeouts = 0;
  std::uint64_t reused = 0;              // hand-outs of idle connections
  std::uint64_t closed_by_upstream = 0;  // idle connections the upstream closed (or wrote to)
  std::uint64_t idle_timeouts = 0;
  std::uint64_t idle_overflow = 0;       // closed because max_idle were already idle
  std::uint64_t cx_overflow = 0;         // a new connection was over the cluster's max_connections
};

class ConnectionPool {
 public:
  ConnectionPool(event::EventLoop& loop, event::Endpoint endpoint, PoolOptions options);
  // Closes every connection. Destroy a pool only when active() is 0: pending callers would
  // never hear back, and handed-out connections would dangle.
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // An idle connection now (result.ready), or a connect under way (result.pending, whose end
  // reaches `callbacks`; cancel it with Cancel). Counts as an active request until Release,
  // the failure callback, or Cancel. `fresh` skips the idle list: for the retry of a request
  // that failed on a reused connection, which should not meet another stale one.
  //
  // With a cluster runtime attached (AttachRuntime), a new connection is only opened while the
  // cluster's open connections are below its max_connections, or when this pool has none at
  // all (as Envoy, so a request can always make progress); otherwise the caller waits in this
  // pool's queue (result.queued) for a connection released here, served first come first
  // served. Cancel a queued wait with CancelWaiting. result.cx_overflow: the limit was hit.
  struct Acquired {
    UpstreamConnection* ready = nullptr;
    UpstreamConnection* pending = nullptr;
    bool queued = false;
    bool cx_overflow = false;
  };
  Acquired Acquire(PoolCallbacks& callbacks, bool fresh = false);
  void CancelWaiting(PoolCallbacks& callbacks);
  std::size_t waiting() const { return waiting_.size(); }

  // The cluster whose max_connections this pool honours and whose open connection count it
  // keeps (moving its count over when the runtime changes). Null: no limit.
  void AttachRuntime(std::shared_ptr<ClusterRuntime> runtime);
  ClusterRuntime* runtime() const { return runtime_.get(); }
  // The caller gave up (e.g. its client left). The connect goes on; the connection is kept
  // idle if it succeeds.
  void Cancel(UpstreamConnection* pending);
  // After the exchange: `keep_alive` when the response allowed reuse and the connection is in
  // a clean state (whole response read, nothing unread). The caller must not use it after.
  void Release(UpstreamConnection* connection, bool keep_alive);
  // After an upgrade (HTTP 101, WebSocket): the connection leaves the pool and the loop, and its
  // socket goes to the caller, who closes it. It no longer counts as one of the pool's (nor
  // toward the cluster's max_connections).
  int Detach(UpstreamConnection* connection);

  // Closes every idle connection; busy and connecting ones close when released instead of
  // going idle. Acquire keeps working (with new connections).
  void Drain();

  // Where the active request count is mirrored for the least-request balancer
  // (LoadBalancer::ActiveSlot); moves the current count from the old slot to the new one.
  void SetLoadSlot(std::uint32_t* slot);

  const event::Endpoint& endpoint() const { return endpoint_; }
  const PoolOptions& options() const { return options_; }
  std::size_t active() const { return active_; }       // requests using or waiting for a connection
  std::size_t idle() const { return idle_.size(); }
  std::size_t connections() const { return all_.size(); }  // connecting, busy and idle
  const PoolStats& stats() const { return stats_; }

 private:
  friend class UpstreamConnection;
  void OnConnectReady(UpstreamConnection* c, std::uint32_t ready);
  void OnIdleReady(UpstreamConnection* c, std::uint32_t ready);
  void OnConnectTimeout(UpstreamConnection* c);
  void FailPending(UpstreamConnection* c, PoolFailure reason, std::string detail);
  void MakeIdle(UpstreamConnection* c);
  void RemoveIdle(UpstreamConnection* c);
  void Destroy(UpstreamConnection* c);
  void ArmIdleTimer();
  void OnIdleTimer();
  void AddActive(int delta);
  UpstreamConnection* StartConnect(PoolCallbacks* callbacks);
  UpstreamConnection* TakeIdle();
  bool AtConnectionLimit() const;
  void ScheduleServeWaiting();
  void ServeWaiting();

  event::EventLoop& loop_;
  const event::Endpoint endpoint_;
  const PoolOptions options_;
  const std::string source_address_;  // of the endpoint's family, from options_.source_addresses
  std::vector<std::unique_ptr<UpstreamConnection>> all_;
  std::vector<UpstreamConnection*> idle_;  // oldest first; hand-outs take the newest (warmest)
  event::TimerId idle_timer_ = 0;
  std::uint64_t generation_ = 0;
  std::size_t active_ = 0;
  std::uint32_t* load_slot_ = nullptr;
  PoolStats stats_;
  std::shared_ptr<ClusterRuntime> runtime_;
  std::vector<PoolCallbacks*> waiting_;  // queued at the connection limit, oldest first
  event::TimerId serve_timer_ = 0;
};

}  // namespace cmesh::upstream
