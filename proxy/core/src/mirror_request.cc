#include "mirror_request.h"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "cmesh/http1/chunked.h"
#include "cmesh/http1/parser.h"
#include "cmesh/upstream/connection_pool.h"

namespace cmesh::proxy_core {
namespace {

constexpr std::chrono::milliseconds kDefaultMirrorTimeout{15000};

// One copy in flight. Owned by itself: deleted (from the loop) once Finish ran.
class MirrorRequest final : public event::IoWatcher, private upstream::PoolCallbacks {
 public:
  MirrorRequest(Worker& worker, std::shared_ptr<Worker::ClusterState> state, std::size_t host, std::string method,
                std::string request)
      : worker_(worker), state_(std::move(state)), host_(host), method_(std::move(method)), out_(std::move(request)) {}

  void Start(std::chrono::milliseconds timeout) {
    pool_ = state_->pools[host_].get();
    timer_ = worker_.loop().RunAfter(timeout, [this] {
      timer_ = 0;
      Finish(false, upstream::AttemptResult::kTimeout, 0);
    });
    auto acquired = pool_->Acquire(*this);
    if (acquired.ready) {
      OnPoolReady(*acquired.ready);
    } else if (acquired.pending) {
      pending_ = acquired.pending;
    } else {
      queued_ = true;
    }
  }

  void OnReady(std::uint32_t ready) override {
    if (done_ || connection_ == nullptr) return;
    if (ready & event::kWritable) Flush();
    if (!done_ && (ready & (event::kReadable | event::kClosed))) Read();
  }

 private:
  void OnPoolReady(upstream::UpstreamConnection& connection) override {
    pending_ = nullptr;
    queued_ = false;
    connection_ = &connection;
    connection.SetWatcher(this);
    Flush();
  }
  void OnPoolFailure(upstream::PoolFailure reason, std::string_view) override {
    pending_ = nullptr;
    Finish(false, reason == upstream::PoolFailure::kTimeout ? upstream::AttemptResult::kTimeout
                                                            : upstream::AttemptResult::kConnectFailure,
           0);
  }

  void Flush() {
    while (!out_.empty()) {
      const ssize_t n = ::send(connection_->fd(), out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.erase(0, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return Finish(false, upstream::AttemptResult::kReset, 0);
    }
    connection_->SetWritable(!out_.empty());
  }

  void Read() {
    char buffer[16 * 1024];
    bool eof = false;
    while (true) {
      const ssize_t n = ::recv(connection_->fd(), buffer, sizeof buffer, 0);
      if (n > 0) {
        in_.append(buffer, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof buffer) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      eof = true;
      break;
    }
    while (!head_done_) {
      http1::ResponseHead head;
      std::size_t consumed = 0;
      http1::ParseError error;
      const auto status = http1::ParseResponseHead(in_, worker_.options().limits, method_, &head, &consumed, &error);
      if (status == http1::ParseStatus::kIncomplete) {
        if (eof) return Finish(false, upstream::AttemptResult::kReset, 0);
        return;
      }
      if (status == http1::ParseStatus::kError) return Finish(false, upstream::AttemptResult::kReset, 0);
      in_.erase(0, consumed);
      if (head.status < 200) continue;
      head_done_ = true;
      status_ = head.status;
      framing_ = head.framing;
      left_ = head.content_length;
      keep_alive_ = head.keep_alive;
    }
    // The body is read and dropped.
    bool complete = false;
    switch (framing_) {
      case http1::BodyFraming::kNone: complete = true; break;
      case http1::BodyFraming::kContentLength: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in_.size()));
        in_.erase(0, n);
        left_ -= n;
        complete = left_ == 0;
        break;
      }
      case http1::BodyFraming::kChunked: {
        std::vector<std::string_view> pieces;
        in_.erase(0, chunked_.Feed(in_, &pieces));
        if (chunked_.failed()) return Finish(false, upstream::AttemptResult::kReset, 0);
        complete = chunked_.done();
        break;
      }
      case http1::BodyFraming::kUntilClose:
        in_.clear();
        complete = eof;
        keep_alive_ = false;
        break;
    }
    if (complete) return Finish(keep_alive_ && in_.empty() && out_.empty() && !eof, upstream::AttemptResult::kResponse, status_);
    if (eof) Finish(false, upstream::AttemptResult::kReset, 0);
  }

  void Finish(bool keep_alive, upstream::AttemptResult result, int status) {
    if (done_) return;
    done_ = true;
    if (timer_ != 0) worker_.loop().Cancel(timer_);
    timer_ = 0;
    if (connection_ != nullptr) {
      connection_->SetWatcher(nullptr);
      pool_->Release(connection_, keep_alive);
    } else if (pending_ != nullptr) {
      pool_->Cancel(pending_);
    } else if (queued_) {
      pool_->CancelWaiting(*this);
    }
    connection_ = nullptr;
    pending_ = nullptr;
    upstream::Release(state_->runtime->requests);
    state_->runtime->Report(*state_->info, state_->health, host_, result, status, worker_.loop().now(), worker_.random());
    worker_.loop().Post([this] { delete this; });
  }

  Worker& worker_;
  std::shared_ptr<Worker::ClusterState> state_;  // keeps the pool alive
  std::size_t host_;
  std::string method_;
  std::string out_;
  std::string in_;
  upstream::ConnectionPool* pool_ = nullptr;
  upstream::UpstreamConnection* connection_ = nullptr;
  upstream::UpstreamConnection* pending_ = nullptr;
  bool queued_ = false;
  bool done_ = false;
  bool head_done_ = false;
  int status_ = 0;
  http1::BodyFraming framing_ = http1::BodyFraming::kNone;
  std::uint64_t left_ = 0;
  bool keep_alive_ = false;
  http1::ChunkedDecoder chunked_;
  event::TimerId timer_ = 0;
};

}  // namespace

std::string ShadowHost(std::string_view authority) {
  std::size_t port = std::string_view::npos;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close != std::string_view::npos && close + 1 < authority.size() && authority[close + 1] == ':') port = close + 1;
  } else {
    port = authority.rfind(':');
  }
  if (port == std::string_view::npos) return std::string(authority) + "-shadow";
  return std::string(authority.substr(0, port)) + "-shadow" + std::string(authority.substr(port));
}

bool StartMirror(Worker& worker, std::shared_ptr<Worker::ClusterState> state, std::string method, std::string request,
                 std::chrono::milliseconds timeout) {
  const upstream::ClusterInfo& cluster = *state->info;
  if (cluster.hosts.empty() || cluster.type == upstream::DiscoveryType::kOriginalDst) return false;
  upstream::ClusterRuntime& runtime = *state->runtime;
  runtime.MaybeSweep(cluster, state->health, worker.loop().now());
  // A mirror is a request of its cluster: it counts against that cluster's max_requests.
  if (!upstream::TryAcquire(runtime.requests, runtime.max_requests())) {
    runtime.stats.upstream_rq_pending_overflow.fetch_add(1, std::memory_order_relaxed);
    worker.mutable_counters().upstream_rq_pending_overflow.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  auto pick = state->balancer.Pick(cluster, worker.random(), nullptr, state->health);
  if (!pick) {
    upstream::Release(runtime.requests);
    return false;
  }
  state->pools[*pick]->AttachRuntime(state->runtime);
  auto* mirror = new MirrorRequest(worker, std::move(state), *pick, std::move(method), std::move(request));
  mirror->Start(timeout.count() > 0 ? timeout : kDefaultMirrorTimeout);
  worker.mutable_counters().upstream_rq_mirrored.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace cmesh::proxy_core
