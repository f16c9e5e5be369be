#include "downstream_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "cmesh/http1/parser.h"
#include "cmesh/http1/target.h"
#include "cmesh/router/header_op.h"
#include "http2_downstream.h"
#include "request_fields.h"

namespace cmesh::proxy_core {
namespace {

constexpr char kFlagsHeader[] = "x-cmesh-response-flags";
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Headers the proxy writes itself, besides the hop-by-hop ones.
bool ProxyOwned(std::string_view name) {
  return http1::EqualsIgnoreCase(name, "host") || http1::EqualsIgnoreCase(name, "expect");
}

}  // namespace

DownstreamConnection::DownstreamConnection(Worker& worker, int fd, DownstreamContext context, std::string already_read)
    : worker_(worker), fd_(fd), context_(std::move(context)), in_(std::move(already_read)) {}

DownstreamConnection::~DownstreamConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool DownstreamConnection::Register() {
  if (!worker_.loop().Add(fd_, false, this)) return false;
  worker_.Adopt(this);
  ArmIdleTimer();
  if (!in_.empty()) {
    in_process_input_ = true;
    ProcessInput();
    in_process_input_ = false;
  }
  return true;
}

void DownstreamConnection::ArmIdleTimer() {
  if (context_.idle_timeout.count() <= 0 || dead_ || idle_timer_ != 0) return;
  idle_timer_ = worker_.loop().RunAfter(context_.idle_timeout, [this] {
    idle_timer_ = 0;
    if (phase_ == Phase::kIdle && !request_) Close();
  });
}

void DownstreamConnection::OnReady(std::uint32_t ready) {
  if (dead_) return;
  if (ready & event::kWritable) FlushDownstream();
  if (!dead_ && (ready & (event::kReadable | event::kClosed))) ReadDownstream();
}

void DownstreamConnection::Abort() { Close(); }

void DownstreamConnection::Drain() {
  if (dead_) return;
  draining_ = true;
  if (phase_ == Phase::kIdle && !request_ && out_.empty()) return Close();
  if (request_) request_->keep_alive = false;  // the answer says "Connection: close"
}

void DownstreamConnection::Close() {
  if (dead_) return;
  dead_ = true;
  CancelTimers();
  if (idle_timer_) worker_.loop().Cancel(idle_timer_);
  idle_timer_ = 0;
  ReleaseUpstream(false);
  worker_.loop().Remove(fd_);
  ::close(fd_);
  fd_ = -1;
  worker_.Forget(this);
  // Deleted from the loop, after whatever called Close has returned.
  worker_.loop().Post([this] { delete this; });
}

// ---- input -----------------------------------------------------------------------------------

void DownstreamConnection::ReadDownstream() {
  char buffer[kReadChunk];
  while (reading_) {
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      in_.append(buffer, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return Close();  // reset by the client
    peer_closed_ = true;
    break;
  }
  ProcessInput();
  if (dead_) return;
  if (peer_closed_) {
    // The client is done sending: finish the exchange in progress, then close.
    close_after_flush_ = true;
    reading_ = false;
    UpdateInterest();
    if (phase_ == Phase::kIdle && out_.empty()) Close();
  }
}

void DownstreamConnection::ProcessInput() {
  while (!dead_ && !close_after_flush_) {
    if (request_ && !request_->body_done) {
      ConsumeBody();
      if (dead_ || !request_ || !request_->body_done) break;
      continue;
    }
    if (phase_ != Phase::kIdle || in_.empty()) break;
    if (!served_any_ && MaybeHandOffHttp2()) return;
    if (!served_any_ && in_.size() < kHttp2Preface.size() && kHttp2Preface.starts_with(in_)) break;  // wait
    http1::RequestHead head;
    std::size_t consumed = 0;
    http1::ParseError error;
    const auto status = http1::ParseRequestHead(in_, worker_.options().limits, &head, &consumed, &error);
    if (status == http1::ParseStatus::kIncomplete) break;
    if (status == http1::ParseStatus::kError) {
      request_ = std::make_unique<Request>();
      request_->keep_alive = false;
      in_.clear();
      LocalReply(error.status, "DPE", error.reason);
      break;
    }
    const bool ok = StartRequest(head);
    in_.erase(0, consumed);
    if (!ok) break;
    Route();
  }
  UpdateInterest();
}

bool DownstreamConnection::MaybeHandOffHttp2() {
  if (!in_.starts_with(kHttp2Preface)) return false;
  // The HTTP/2 connection manager takes the socket and the bytes read so far; this object
  // leaves the loop and the worker without closing the socket.
  dead_ = true;
  if (idle_timer_) worker_.loop().Cancel(idle_timer_);
  idle_timer_ = 0;
  worker_.loop().Remove(fd_);
  const int fd = fd_;
  fd_ = -1;
  worker_.Forget(this);
  worker_.loop().Post([this] { delete this; });
  StartHttp2Downstream(worker_, fd, context_, std::move(in_));
  return true;
}

bool DownstreamConnection::StartRequest(const http1::RequestHead& head) {
  served_any_ = true;
  if (idle_timer_) worker_.loop().Cancel(idle_timer_);
  idle_timer_ = 0;
  worker_.mutable_counters().requests.fetch_add(1, std::memory_order_relaxed);
  start_ = event::Clock::now();
  request_ = std::make_unique<Request>();
  Request& r = *request_;
  r.method = head.method;
  r.version_minor = head.version_minor;
  r.keep_alive = head.keep_alive && !draining_;  // during a drain: answered, then closed
  r.expect_continue = head.expect_continue;
  r.framing = head.framing;
  r.content_length = head.content_length;
  r.body_left = head.content_length;
  r.body_done = head.framing == http1::BodyFraming::kNone;
  std::string_view why;
  auto target = http1::ReadRoutingTarget(head, &why);
  if (!target) {
    r.path = head.target;
    r.keep_alive = false;
    LocalReply(400, "DPE", why);
    return false;
  }
  r.path = target->path;
  r.authority = target->authority;
  target_port_ = target->port;
  for (const http1::Header& h : head.headers) {
    if (http1::IsHopByHop(head, h.name) || ProxyOwned(h.name)) continue;
    r.headers.push_back({std::string(h.name), std::string(h.value)});
  }
  // An upgrade the chain allows (upgrade_configs: WebSocket) keeps its Upgrade and Connection
  // headers, which are otherwise hop-by-hop; one it does not allow goes on as a plain request.
  if (head.ConnectionHas("upgrade")) {
    for (const http1::Header& h : head.headers) {
      if (!http1::EqualsIgnoreCase(h.name, "upgrade")) continue;
      for (const std::string& allowed : context_.upgrades) {
        if (http1::EqualsIgnoreCase(h.value, allowed)) r.upgrade = std::string(h.value);
      }
    }
    if (!r.upgrade.empty()) {
      r.headers.push_back({"connection", "upgrade"});
      r.headers.push_back({"upgrade", r.upgrade});
    }
  }
  if (const std::string* id = FindHeader(r.headers, "x-request-id")) {
    r.request_id = *id;
  } else {
    r.request_id = NewRequestId(worker_.random());
    r.headers.push_back({"x-request-id", r.request_id});
  }
  if (!FindHeader(r.headers, "x-forwarded-proto")) r.headers.push_back({"x-forwarded-proto", "http"});
  if (context_.inbound) {
    // The app sees who called: the client's address (its sidecar connects from the client pod's
    // IP) appended to x-forwarded-for, as Envoy's connection manager appends the remote address.
    if (std::string* xff = FindHeaderMutable(r.headers, "x-forwarded-for")) {
      *xff += ", " + context_.peer.address;
    } else {
      r.headers.push_back({"x-forwarded-for", context_.peer.address});
    }
  }
  return true;
}

void DownstreamConnection::ConsumeBody() {
  Request& r = *request_;
  std::size_t used = 0;
  if (r.framing == http1::BodyFraming::kContentLength) {
    used = static_cast<std::size_t>(std::min<std::uint64_t>(r.body_left, in_.size()));
    if (used > 0) OnBodyData(std::string_view(in_).substr(0, used));
    r.body_left -= used;
    if (r.body_left == 0) r.body_done = true;
  } else {
    std::vector<std::string_view> pieces;
    used = r.chunked.Feed(in_, &pieces);
    for (std::string_view piece : pieces) OnBodyData(piece);
    if (r.chunked.failed()) {
      in_.clear();
      r.keep_alive = false;
      r.body_done = true;
      if (!response_started_) {
        ReleaseUpstream(false);
        LocalReply(400, "DPE", "invalid chunked request body: " + r.chunked.error());
      } else {
        Close();
      }
      return;
    }
    if (r.chunked.done()) r.body_done = true;
  }
  in_.erase(0, used);
  if (r.body_done) OnBodyEnd();
}

void DownstreamConnection::OnBodyData(std::string_view data) {
  Request& r = *request_;
  r.body_bytes += data.size();
  if (r.body_retriable) {
    if (r.body_copy.size() + data.size() <= worker_.options().retry_buffer_limit) {
      r.body_copy.append(data);
    } else {
      r.body_retriable = false;
      r.body_copy.clear();
      r.body_copy.shrink_to_fit();
    }
  }
  std::string& sink = upstream_ && !upstream_pending_ ? up_out_ : early_body_;
  if (r.framing == http1::BodyFraming::kChunked) {
    http1::AppendChunk(&sink, data);
  } else {
    sink.append(data);
  }
  if (&sink == &up_out_) FlushUpstream();
}

void DownstreamConnection::OnBodyEnd() {
  Request& r = *request_;
  if (r.framing == http1::BodyFraming::kChunked) {
    std::string& sink = upstream_ && !upstream_pending_ ? up_out_ : early_body_;
    http1::AppendLastChunk(&sink);
    if (&sink == &up_out_) FlushUpstream();
  }
}

// ---- local replies and output ----------------------------------------------------------------

void DownstreamConnection::LocalReply(int status, std::string_view flags, std::string_view body,
                                      std::vector<http1::OwnedHeader> headers) {
  if (response_started_) return Close();
  ReleaseUpstream(false);
  CancelTimers();
  status_ = status;
  if (flags != "-") flags_ = flags;
  std::string text(body);
  if (!text.empty() && text.back() != '\n') text += '\n';
  headers.push_back({"content-type", "text/plain"});
  if (flags != "-") headers.push_back({kFlagsHeader, std::string(flags)});
  if (request_ && !request_->request_id.empty()) headers.push_back({"x-request-id", request_->request_id});
  if (decision_.kind != router::Decision::Kind::kNoRoute) router::ApplyHeaderOps(decision_.response_header_ops, headers);
  headers.insert(headers.end(), extra_response_headers_.begin(), extra_response_headers_.end());
  // Unread request body bytes would be read as the next request: close instead.
  const bool keep_alive = request_ && request_->keep_alive && request_->body_done;
  if (request_ && !keep_alive) request_->keep_alive = false;
  const bool head_only = request_ && request_->method == "HEAD";
  http1::AppendResponseHead(&out_, status, "", headers, http1::BodyFraming::kContentLength, text.size(), keep_alive);
  if (!head_only) {
    out_ += text;
    bytes_sent_ += text.size();
  }
  response_started_ = true;
  EndExchange();
}

void DownstreamConnection::EmitRequestRecord() {
  if (!worker_.options().on_request || !request_) return;
  RequestRecord record;
  record.method = request_->method;
  record.path = request_->path;
  record.authority = request_->authority;
  record.protocol_minor = request_->version_minor;
  record.status = status_;
  record.flags = flags_.empty() ? "-" : flags_;
  record.bytes_received = request_->body_bytes;
  record.bytes_sent = bytes_sent_;
  record.duration = std::chrono::duration_cast<std::chrono::microseconds>(event::Clock::now() - start_);
  record.upstream_host = upstream_host_.empty() ? "-" : upstream_host_;
  record.cluster = cluster_ ? cluster_->name : "-";
  record.route = route_name_.empty() ? "-" : std::string(route_name_);
  record.request_id = request_->request_id;
  record.attempts = attempts_;
  record.inbound = context_.inbound;
  if (cluster_) record.destination_service = cluster_->service_host;
  worker_.options().on_request(record);
}

void DownstreamConnection::EndExchange() {
  CancelTimers();
  const bool keep_alive = request_ && request_->keep_alive;
  EmitRequestRecord();
  const bool body_pending = request_ && !request_->body_done;
  request_.reset();
  config_.reset();
  decision_ = router::Decision();
  cluster_.reset();
  cluster_state_.reset();
  route_name_ = {};
  extra_response_headers_.clear();
  request_hash_.reset();
  tried_hosts_.clear();
  upstream_host_.clear();
  early_body_.clear();
  up_out_.clear();
  up_in_.clear();
  flags_.clear();
  status_ = 0;
  bytes_sent_ = 0;
  attempts_ = retries_ = 0;
  stale_retry_used_ = false;
  response_started_ = response_head_done_ = request_sent_ = upstream_eof_ = upstream_reused_ = false;
  phase_ = Phase::kIdle;
  if (!keep_alive || body_pending) {
    close_after_flush_ = true;
    reading_ = false;
    in_.clear();
  }
  FlushDownstream();
  ArmIdleTimer();
  // The next pipelined request, if any, runs from the caller's ProcessInput loop or here.
  if (!dead_ && !close_after_flush_ && !in_.empty() && !in_process_input_) {
    in_process_input_ = true;
    ProcessInput();
    in_process_input_ = false;
  }
}

void DownstreamConnection::FlushDownstream() {
  if (dead_) return;
  while (!out_.empty()) {
    const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return Close();
  }
  if (out_.empty() && close_after_flush_ && phase_ == Phase::kIdle) return Close();
  UpdateInterest();
}

void DownstreamConnection::UpdateInterest() {
  if (dead_) return;
  // Read while there is room: no more than a request head pending behind the current exchange,
  // and the upstream side not backed up.
  const std::size_t limit = worker_.options().max_pending_bytes;
  const bool backed_up = up_out_.size() + early_body_.size() > limit || out_.size() > limit ||
                         (phase_ != Phase::kIdle && request_ && request_->body_done &&
                          in_.size() > worker_.options().limits.max_head_bytes);
  const bool readable = !close_after_flush_ && !peer_closed_ && !backed_up;
  const bool writable = !out_.empty();
  // The other direction: read no more of the upstream's answer than the client takes.
  if (upstream_ && !upstream_pending_) upstream_->SetReadable(out_.size() <= limit);
  if (readable != reading_ || writable != want_write_) {
    reading_ = readable;
    want_write_ = writable;
    worker_.loop().Modify(fd_, readable, writable);
  }
}

}  // namespace cmesh::proxy_core
