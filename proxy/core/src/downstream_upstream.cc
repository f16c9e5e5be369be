// The upstream part of the connection manager: attempts on pooled connections, the request
// going up, the response coming back (re-framed), retries and timeouts; and what protects the
// upstreams and the client from each other: the cluster's circuit breakers (pending requests,
// requests, connections through the pool's queue, retries or the retry budget), outlier
// reports for each attempt, request mirroring and the route's idle timeout.
#include "downstream_connection.h"
#include "tcp_proxy_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "cmesh/http1/parser.h"
#include "cmesh/router/header_op.h"
#include "mirror_request.h"
#include "upstream_choice.h"

namespace cmesh::proxy_core {
namespace {

bool Idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}) {
    if (method == m) return true;
  }
  return false;
}

}  // namespace

void DownstreamConnection::StartAttempt() {
  ++attempts_;
  upstream::ClusterRuntime& runtime = *cluster_state_->runtime;
  if (!retry_state_.runtime) {
    // The exchange's first attempt.
    retry_state_.runtime = cluster_state_->runtime;
    if (decision_.idle_timeout && decision_.idle_timeout->count() > 0) {
      retry_state_.last_activity = worker_.loop().now();
      ArmStreamIdleTimer(*decision_.idle_timeout);
    }
  }
  MaybeStartMirrors();
  runtime.MaybeSweep(*cluster_, cluster_state_->health, worker_.loop().now());
  // The balancer (ejected hosts skipped), and another endpoint than those tried when the retry
  // policy asks (Istio's previous_hosts).
  auto pick = PickHost(*cluster_state_, *cluster_, worker_.random(), request_hash_ ? &*request_hash_ : nullptr,
                       decision_.retry, tried_hosts_);
  if (!pick) return LocalReply(503, "UH", "no healthy upstream");
  tried_hosts_.push_back(*pick);
  host_index_ = *pick;
  pool_ = cluster_state_->pools[host_index_].get();
  upstream_host_ = pool_->endpoint().ToString();
  up_out_.clear();
  up_in_.clear();
  response_head_done_ = false;
  upstream_eof_ = false;
  if (attempts_ > 1) {
    // A retry: the body again, from the copy kept for it.
    early_body_.clear();
    if (request_->framing == http1::BodyFraming::kChunked) {
      http1::AppendChunk(&early_body_, request_->body_copy);
      if (request_->body_done) http1::AppendLastChunk(&early_body_);
    } else {
      early_body_ = request_->body_copy;
    }
  }
  if (decision_.retry && decision_.retry->per_try_timeout) {
    try_timer_ = worker_.loop().RunAfter(*decision_.retry->per_try_timeout, [this] {
      try_timer_ = 0;
      OnTimeout(true);
    });
  }
  phase_ = Phase::kConnecting;
  pool_->AttachRuntime(cluster_state_->runtime);
  // Circuit breakers: a request that would wait for a connection needs a pending slot.
  const bool fresh = fresh_connection_;
  fresh_connection_ = false;
  if ((fresh || pool_->idle() == 0) &&
      runtime.pending.load(std::memory_order_relaxed) >= runtime.max_pending_requests()) {
    return Overflow();
  }
  // After a stale kept-alive connection failed, the retry must not get another idle one.
  auto acquired = pool_->Acquire(*this, /*fresh=*/fresh);
  if (acquired.cx_overflow) worker_.mutable_counters().upstream_cx_overflow.fetch_add(1, std::memory_order_relaxed);
  if (acquired.ready) return OnPoolReady(*acquired.ready);
  if (acquired.queued) {
    retry_state_.queued = true;
  } else {
    upstream_ = acquired.pending;
    upstream_pending_ = true;
  }
  // Checked again now that it is known to wait (another worker may have taken the last slot).
  if (!upstream::TryAcquire(runtime.pending, runtime.max_pending_requests())) return Overflow();
  retry_state_.pending = true;
}

// 503 UO: the cluster's circuit breakers refused this attempt (pending requests or requests).
void DownstreamConnection::Overflow() {
  cluster_state_->runtime->stats.upstream_rq_pending_overflow.fetch_add(1, std::memory_order_relaxed);
  worker_.mutable_counters().upstream_rq_pending_overflow.fetch_add(1, std::memory_order_relaxed);
  // Envoy marks the answers of an overflowing cluster so a caller can tell them from the upstream's.
  LocalReply(503, "UO", "upstream connect error or disconnect/reset before headers. reset reason: overflow",
             {{"x-envoy-overloaded", "true"}});
}

void DownstreamConnection::ReportOutcome(upstream::AttemptResult result, int status) {
  if (!cluster_state_ || !cluster_->outlier) return;
  if (cluster_state_->runtime->Report(*cluster_, cluster_state_->health, host_index_, result, status,
                                      worker_.loop().now(), worker_.random())) {
    worker_.mutable_counters().outlier_detection_ejections_enforced.fetch_add(1, std::memory_order_relaxed);
  }
}

// The route's mirrors, once per exchange and once the whole body is in (a body longer than the
// retry buffer is not mirrored: Envoy shadows buffered requests only).
void DownstreamConnection::MaybeStartMirrors() {
  if (mirrored_ || decision_.mirrors.empty() || !request_ || !request_->body_done) return;
  mirrored_ = true;
  if (!request_->body_retriable) return;
  const Request& r = *request_;
  for (const router::MirrorPolicy& mirror : decision_.mirrors) {
    if (!mirror.fraction.Sample(worker_.random())) continue;
    auto cluster = config_->clusters.find(mirror.cluster);
    if (cluster == config_->clusters.end()) continue;  // as Envoy: an unknown mirror cluster is skipped
    auto state = worker_.StateFor(cluster->second);
    std::vector<http1::OwnedHeader> headers;
    headers.reserve(r.headers.size() + 1);
    headers.push_back({"host", ShadowHost(decision_.host_rewrite.empty() ? std::string_view(r.authority)
                                                                           : decision_.host_rewrite)});
    for (const auto& h : r.headers) headers.push_back(h);
    router::ApplyHeaderOps(decision_.request_header_ops, headers);
    const bool has_body = r.framing != http1::BodyFraming::kNone;
    std::string bytes;
    http1::AppendRequestHead(&bytes, r.method, decision_.path_rewrite.empty() ? r.path : decision_.path_rewrite,
                             headers, has_body ? http1::BodyFraming::kContentLength : http1::BodyFraming::kNone,
                             r.body_copy.size());
    bytes += r.body_copy;
    StartMirror(worker_, std::move(state), r.method, std::move(bytes), decision_.timeout);
  }
}

// Envoy's per-stream idle timeout, as the route's idle_timeout sets it: no byte either way for
// that long ends the exchange. Bytes the upstream side moves stamp last_activity as they go;
// what the client side moved (request body in, response out) is noticed when the timer fires,
// by comparing the connection manager's progress counters, which saves a timer reset per read.
void DownstreamConnection::ArmStreamIdleTimer(std::chrono::milliseconds wait) {
  retry_state_.progress = {request_ ? request_->body_bytes : 0, bytes_sent_, out_.size(), early_body_.size()};
  retry_state_.idle_timer = worker_.loop().RunAfter(wait, [this] {
    retry_state_.idle_timer = 0;
    OnStreamIdleTimer();
  });
}

void DownstreamConnection::OnStreamIdleTimer() {
  if (dead_ || !request_ || !decision_.idle_timeout) return;
  const auto now = worker_.loop().now();
  const std::array<std::uint64_t, 4> progress = {request_->body_bytes, bytes_sent_, out_.size(), early_body_.size()};
  if (progress != retry_state_.progress) retry_state_.last_activity = now;
  const auto due = retry_state_.last_activity + *decision_.idle_timeout;
  if (due > now) return ArmStreamIdleTimer(std::chrono::ceil<std::chrono::milliseconds>(due - now));
  worker_.mutable_counters().stream_idle_timeouts.fetch_add(1, std::memory_order_relaxed);
  if (response_started_) {
    // Envoy resets the stream: on HTTP/1.1 that is closing the connection.
    ReleaseUpstream(false);
    return Close();
  }
  ReleaseUpstream(false);
  LocalReply(408, "SI", "stream timeout");
}

// ---- upstream --------------------------------------------------------------------------------

void DownstreamConnection::OnPoolReady(upstream::UpstreamConnection& connection) {
  retry_state_.queued = false;
  retry_state_.ReleasePending();
  upstream::ClusterRuntime& runtime = *cluster_state_->runtime;
  if (!upstream::TryAcquire(runtime.requests, runtime.max_requests())) {
    // Envoy's max_requests: refused when the stream would attach (counted as a pending overflow).
    pool_->Release(&connection, /*keep_alive=*/true);  // unused, still clean
    upstream_ = nullptr;
    upstream_pending_ = false;
    pool_ = nullptr;
    return Overflow();
  }
  retry_state_.active = true;
  if (!connection.reused()) ReportOutcome(upstream::AttemptResult::kConnectSuccess, 0);
  upstream_ = &connection;
  upstream_pending_ = false;
  upstream_reused_ = connection.reused();
  connection.SetWatcher(&upstream_watcher_);
  phase_ = Phase::kForwarding;
  WriteRequestHead();
  FlushUpstream();
}

void DownstreamConnection::OnPoolFailure(upstream::PoolFailure reason, std::string_view detail) {
  upstream_ = nullptr;
  upstream_pending_ = false;
  pool_ = nullptr;
  retry_state_.ReleasePending();
  ReportOutcome(reason == upstream::PoolFailure::kTimeout ? upstream::AttemptResult::kTimeout
                                                          : upstream::AttemptResult::kConnectFailure,
                0);
  worker_.mutable_counters().upstream_connect_failures.fetch_add(1, std::memory_order_relaxed);
  if (try_timer_) {
    worker_.loop().Cancel(try_timer_);
    try_timer_ = 0;
  }
  if (MaybeRetry(/*connect_failure=*/true, /*reset=*/false, 0)) return;
  LocalReply(503, "UF",
             std::string("upstream connect error or disconnect/reset before headers. reset reason: ") +
                 (reason == upstream::PoolFailure::kTimeout ? "connection timeout" : "connection failure") + ", " +
                 std::string(detail));
}

void DownstreamConnection::WriteRequestHead() {
  Request& r = *request_;
  std::vector<http1::OwnedHeader> headers;
  headers.reserve(r.headers.size() + 1);
  headers.push_back({"host", decision_.host_rewrite.empty() ? r.authority : std::string(decision_.host_rewrite)});
  for (const auto& h : r.headers) headers.push_back(h);
  router::ApplyHeaderOps(decision_.request_header_ops, headers);
  if (decision_.include_request_attempt_count) headers.push_back({"x-envoy-attempt-count", std::to_string(attempts_)});
  const std::string& path = decision_.path_rewrite.empty() ? r.path : decision_.path_rewrite;
  http1::AppendRequestHead(&up_out_, r.method, path, headers, r.framing, r.content_length);
  up_out_ += early_body_;
  early_body_.clear();
}

void DownstreamConnection::FlushUpstream() {
  if (!upstream_ || upstream_pending_) return;
  while (!up_out_.empty()) {
    const ssize_t n = ::send(upstream_->fd(), up_out_.data(), up_out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      up_out_.erase(0, static_cast<std::size_t>(n));
      upstream_wrote_ = true;
      retry_state_.last_activity = worker_.loop().now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return UpstreamReset("upstream write failed");
  }
  upstream_->SetWritable(!up_out_.empty());
  if (up_out_.empty() && request_ && request_->body_done) {
    request_sent_ = true;
    MaybeStartMirrors();
  }
  UpdateInterest();
}

void DownstreamConnection::OnUpstreamReady(std::uint32_t ready) {
  if (dead_ || !upstream_) return;
  if (ready & event::kWritable) FlushUpstream();
  if (!dead_ && upstream_ && (ready & (event::kReadable | event::kClosed))) ReadUpstream();
}

void DownstreamConnection::ReadUpstream() {
  char buffer[kReadChunk];
  while (true) {
    const ssize_t n = ::recv(upstream_->fd(), buffer, sizeof buffer, 0);
    if (n > 0) {
      up_in_.append(buffer, static_cast<std::size_t>(n));
      retry_state_.last_activity = worker_.loop().now();
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
      // A slow client: take no more than can wait for it (the rest waits in the socket).
      if (up_in_.size() + out_.size() > worker_.options().max_pending_bytes) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    upstream_eof_ = true;  // closed or reset
    break;
  }
  while (!response_head_done_) {
    std::size_t consumed = 0;
    http1::ParseError error;
    http1::ResponseHead head;
    const auto status =
        http1::ParseResponseHead(up_in_, worker_.options().limits, request_->method, &head, &consumed, &error);
    if (status == http1::ParseStatus::kIncomplete) {
      if (upstream_eof_) return UpstreamReset("upstream closed the connection before the response headers");
      return;
    }
    if (status == http1::ParseStatus::kError) {
      ReleaseUpstream(false);
      return LocalReply(502, "UPE", "upstream protocol error: " + error.reason);
    }
    if (head.status == 101 && !request_->upgrade.empty()) return SwitchProtocols(head, consumed);
    if (head.status < 200) {  // 100 Continue and other interim answers: not forwarded
      up_in_.erase(0, consumed);
      continue;
    }
    StartResponse(head, consumed);
    if (dead_ || !upstream_) return;
  }
  PumpResponseBody();
}

void DownstreamConnection::StartResponse(const http1::ResponseHead& head, std::size_t consumed) {
  status_ = head.status;
  ReportOutcome(upstream::AttemptResult::kResponse, head.status);
  if (try_timer_) {
    worker_.loop().Cancel(try_timer_);
    try_timer_ = 0;
  }
  if (decision_.retry && decision_.retry->RetriableStatus(static_cast<std::uint32_t>(head.status)) &&
      MaybeRetry(false, false, head.status)) {
    return;
  }
  response_head_done_ = true;
  response_framing_ = head.framing;
  response_body_left_ = head.content_length;
  response_keep_alive_ = head.keep_alive;
  response_chunked_ = http1::ChunkedDecoder();
  std::vector<http1::OwnedHeader> headers;
  headers.reserve(head.headers.size() + 1);
  for (const http1::Header& h : head.headers) {
    if (http1::IsHopByHop(head, h.name)) continue;
    headers.push_back({std::string(h.name), std::string(h.value)});
  }
  router::ApplyHeaderOps(decision_.response_header_ops, headers);
  headers.insert(headers.end(), extra_response_headers_.begin(), extra_response_headers_.end());
  if (decision_.include_attempt_count_in_response) {
    headers.push_back({"x-envoy-attempt-count", std::to_string(attempts_)});
  }
  http1::BodyFraming down = head.framing;
  downstream_chunked_ = false;
  bool keep_alive = request_->keep_alive && request_->body_done;
  if (head.framing == http1::BodyFraming::kChunked || head.framing == http1::BodyFraming::kUntilClose) {
    if (request_->version_minor >= 1) {
      down = http1::BodyFraming::kChunked;
      downstream_chunked_ = true;
    } else {
      down = http1::BodyFraming::kUntilClose;  // an HTTP/1.0 client reads until we close
      keep_alive = false;
    }
  }
  if (!keep_alive) request_->keep_alive = false;
  const bool no_body = head.framing == http1::BodyFraming::kNone;
  http1::AppendResponseHead(&out_, head.status, head.reason, headers,
                            no_body && head.status != 204 && head.status != 304 &&
                                    !http1::EqualsIgnoreCase(request_->method, "HEAD")
                                ? http1::BodyFraming::kContentLength
                                : down,
                            head.content_length, keep_alive);
  response_started_ = true;
  phase_ = Phase::kResponding;
  up_in_.erase(0, consumed);
}

void DownstreamConnection::SwitchProtocols(const http1::ResponseHead& head, std::size_t consumed) {
  status_ = 101;
  ReportOutcome(upstream::AttemptResult::kResponse, 101);
  std::vector<http1::OwnedHeader> headers;
  std::string upgrade = request_->upgrade;
  for (const http1::Header& h : head.headers) {
    if (http1::EqualsIgnoreCase(h.name, "upgrade")) upgrade = std::string(h.value);
    if (http1::IsHopByHop(head, h.name)) continue;
    headers.push_back({std::string(h.name), std::string(h.value)});
  }
  router::ApplyHeaderOps(decision_.response_header_ops, headers);
  headers.insert(headers.end(), extra_response_headers_.begin(), extra_response_headers_.end());
  headers.push_back({"connection", "upgrade"});
  headers.push_back({"upgrade", upgrade});
  http1::AppendResponseHead(&out_, 101, head.reason, headers, http1::BodyFraming::kNone, 0, /*keep_alive=*/true);
  response_started_ = true;
  // What each side sent past the upgrade goes to the other first: the upstream's first frames
  // after its 101, the client's frames after its request (and request bytes not written yet).
  std::string to_downstream = std::move(out_);
  to_downstream.append(up_in_, consumed, std::string::npos);
  std::string to_upstream = std::move(up_out_);
  to_upstream += early_body_;
  to_upstream += in_;
  TcpRecord record;
  record.cluster = cluster_ ? cluster_->name : "-";
  record.upstream_host = upstream_host_;
  record.inbound = context_.inbound;
  record.connected = true;
  EmitRequestRecord();
  CancelTimers();  // the route timeout ends with the exchange; the tunnel has its idle timeout
  const int up_fd = pool_->Detach(upstream_);
  upstream_ = nullptr;
  pool_ = nullptr;
  // This object leaves the loop and the worker without closing the client's socket.
  dead_ = true;
  if (idle_timer_) worker_.loop().Cancel(idle_timer_);
  idle_timer_ = 0;
  worker_.loop().Remove(fd_);
  const int down_fd = fd_;
  fd_ = -1;
  worker_.Forget(this);
  worker_.loop().Post([this] { delete this; });
  TcpProxyConnection::StartTunnel(worker_, down_fd, up_fd, std::move(to_upstream), std::move(to_downstream),
                                  std::move(record), context_.idle_timeout);
}

void DownstreamConnection::PumpResponseBody() {
  if (!response_head_done_) return;
  bool complete = false;
  switch (response_framing_) {
    case http1::BodyFraming::kNone:
      complete = true;
      break;
    case http1::BodyFraming::kContentLength: {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(response_body_left_, up_in_.size()));
      if (n > 0) OnResponseBodyData(std::string_view(up_in_).substr(0, n));
      up_in_.erase(0, n);
      response_body_left_ -= n;
      complete = response_body_left_ == 0;
      break;
    }
    case http1::BodyFraming::kChunked: {
      std::vector<std::string_view> pieces;
      const std::size_t used = response_chunked_.Feed(up_in_, &pieces);
      for (std::string_view piece : pieces) OnResponseBodyData(piece);
      up_in_.erase(0, used);
      if (response_chunked_.failed()) {
        ReleaseUpstream(false);
        return Close();  // the response already started: all we can do is cut it
      }
      complete = response_chunked_.done();
      break;
    }
    case http1::BodyFraming::kUntilClose:
      if (!up_in_.empty()) OnResponseBodyData(up_in_);
      up_in_.clear();
      complete = upstream_eof_;
      break;
  }
  if (complete) return FinishResponse(response_keep_alive_ && !upstream_eof_ && up_in_.empty() && request_sent_);
  if (upstream_eof_) {
    ReleaseUpstream(false);
    return Close();  // reset mid-body
  }
  FlushDownstream();
}

void DownstreamConnection::OnResponseBodyData(std::string_view data) {
  bytes_sent_ += data.size();
  if (downstream_chunked_) {
    http1::AppendChunk(&out_, data);
  } else {
    out_.append(data);
  }
}

void DownstreamConnection::FinishResponse(bool upstream_reusable) {
  if (downstream_chunked_) http1::AppendLastChunk(&out_);
  ReleaseUpstream(upstream_reusable);
  EndExchange();
}

void DownstreamConnection::UpstreamReset(std::string_view detail) {
  const bool nothing_back = !response_head_done_ && up_in_.empty();
  if (response_head_done_) ReportOutcome(upstream::AttemptResult::kReset, 0);  // cut mid-body
  ReleaseUpstream(false);
  if (response_started_) return Close();
  // A kept-alive connection the upstream had closed while idle: retry at once on a new one, once,
  // for requests that are safe to repeat.
  if (nothing_back && upstream_reused_ && !stale_retry_used_ && Idempotent(request_->method) &&
      request_->body_retriable) {
    stale_retry_used_ = true;
    fresh_connection_ = true;
    --attempts_;
    return StartAttempt();
  }
  if (nothing_back) ReportOutcome(upstream::AttemptResult::kReset, 0);
  if (MaybeRetry(false, /*reset=*/true, 0)) return;
  LocalReply(503, "UC", std::string("upstream connect error or disconnect/reset before headers. reset reason: ") +
                             std::string(detail));
}

bool DownstreamConnection::MaybeRetry(bool connect_failure, bool reset, int status) {
  const router::RetryPolicy* policy = decision_.retry;
  if (policy == nullptr || retries_ >= policy->num_retries || !request_->body_retriable || response_started_) {
    return false;
  }
  using router::RetryOn;
  bool retry = false;
  if (status > 0) {
    retry = policy->RetriableStatus(static_cast<std::uint32_t>(status));
  } else if (connect_failure) {
    retry = policy->Has(router::kRetryOnConnectFailure) || policy->Has(router::kRetryOn5xx) ||
            policy->Has(router::kRetryOnGatewayError) || policy->Has(router::kRetryOnReset);
  } else if (reset) {
    retry = policy->Has(router::kRetryOn5xx) || policy->Has(router::kRetryOnGatewayError) ||
            policy->Has(router::kRetryOnReset);
  }
  if (!retry) return false;
  // max_retries, or the retry budget when the cluster has one: beyond it the failure stands.
  upstream::ClusterRuntime& runtime = *cluster_state_->runtime;
  if (!runtime.CanRetry(*cluster_, retry_state_.retrying)) {
    runtime.stats.upstream_rq_retry_overflow.fetch_add(1, std::memory_order_relaxed);
    worker_.mutable_counters().upstream_rq_retry_overflow.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!retry_state_.retrying) {
    runtime.retries.fetch_add(1, std::memory_order_relaxed);
    retry_state_.retrying = true;
  }
  ++retries_;
  worker_.mutable_counters().retries.fetch_add(1, std::memory_order_relaxed);
  ReleaseUpstream(false);
  if (try_timer_) {
    worker_.loop().Cancel(try_timer_);
    try_timer_ = 0;
  }
  // Envoy's backoff: a random wait below base * 2^(retries - 1), at most max (10 x base).
  const auto base = policy->backoff_base.value_or(std::chrono::milliseconds(25));
  const auto max = policy->backoff_max.value_or(base * 10);
  const std::int64_t ceiling = std::min<std::int64_t>(base.count() << std::min<std::uint32_t>(retries_ - 1, 20), max.count());
  const auto wait = std::chrono::milliseconds(
      ceiling > 0 ? static_cast<std::int64_t>(worker_.random().Next() % static_cast<std::uint64_t>(ceiling)) : 0);
  phase_ = Phase::kBackoff;
  backoff_timer_ = worker_.loop().RunAfter(wait, [this] {
    backoff_timer_ = 0;
    StartAttempt();
  });
  return true;
}

void DownstreamConnection::OnTimeout(bool per_try) {
  worker_.mutable_counters().upstream_timeouts.fetch_add(1, std::memory_order_relaxed);
  // An attempt under way (connecting, waiting or answering late) times out on its endpoint.
  // (Not one still queued behind the cluster's own max_connections: its host never saw it.)
  if (pool_ != nullptr && !retry_state_.queued && !response_started_) {
    ReportOutcome(upstream::AttemptResult::kTimeout, 0);
  }
  if (response_started_) {
    ReleaseUpstream(false);
    return Close();
  }
  ReleaseUpstream(false);
  if (per_try && MaybeRetry(false, /*reset=*/true, 0)) return;
  LocalReply(504, "UT", "upstream request timeout");
}

void DownstreamConnection::ReleaseUpstream(bool keep_alive) {
  retry_state_.ReleasePending();
  retry_state_.ReleaseActive();
  if (retry_state_.queued) {
    if (pool_ != nullptr) pool_->CancelWaiting(*this);
    retry_state_.queued = false;
    pool_ = nullptr;
  }
  if (upstream_ == nullptr) return;
  if (upstream_pending_) {
    pool_->Cancel(upstream_);
  } else {
    upstream_->SetWatcher(nullptr);
    pool_->Release(upstream_, keep_alive);
  }
  upstream_ = nullptr;
  upstream_pending_ = false;
  pool_ = nullptr;
}

// Called when the exchange ends (answered, or the connection closed): also gives back what the
// exchange still holds of its cluster's circuit breakers.
void DownstreamConnection::CancelTimers() {
  if (retry_state_.queued && pool_ != nullptr) pool_->CancelWaiting(*this);
  retry_state_.ReleaseAll();
  mirrored_ = false;
  for (event::TimerId* timer :
       {&route_timer_, &try_timer_, &delay_timer_, &backoff_timer_, &retry_state_.idle_timer}) {
    if (*timer) worker_.loop().Cancel(*timer);
    *timer = 0;
  }
}

}  // namespace cmesh::proxy_core
