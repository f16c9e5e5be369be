#include "downstream_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "cmesh/http1/parser.h"
#include "cmesh/http1/target.h"
#include "cmesh/router/header_op.h"
#include "cmesh/router/request_view.h"

namespace cmesh::proxy_core {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr char kFlagsHeader[] = "x-cmesh-response-flags";

bool Idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}) {
    if (method == m) return true;
  }
  return false;
}

// Headers the proxy writes itself, besides the hop-by-hop ones.
bool ProxyOwned(std::string_view name) {
  return http1::EqualsIgnoreCase(name, "host") || http1::EqualsIgnoreCase(name, "expect");
}

std::string NewRequestId(router::Random& random) {
  const std::uint64_t a = random.Next(), b = random.Next();
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(a >> (8 * i));
    bytes[8 + i] = static_cast<unsigned char>(b >> (8 * i));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  // 8-4-4-4-12 hex digits, written directly (snprintf here cost 3 % of the proxy's CPU).
  static constexpr char kHex[] = "0123456789abcdef";
  char text[37];
  char* out = text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
    *out++ = kHex[bytes[i] >> 4];
    *out++ = kHex[bytes[i] & 0x0f];
  }
  *out = '\0';
  return text;
}

const std::string* FindHeader(const std::vector<http1::OwnedHeader>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (http1::EqualsIgnoreCase(h.name, name)) return &h.value;
  }
  return nullptr;
}

// The router's header container and the codec's are the same shape.
void ApplyOps(std::span<const router::HeaderOp> ops, std::vector<http1::OwnedHeader>& headers) {
  if (ops.empty()) return;
  std::vector<router::OwnedHeader> converted;
  converted.reserve(headers.size());
  for (auto& h : headers) converted.push_back({std::move(h.name), std::move(h.value)});
  router::ApplyHeaderOps(ops, converted);
  headers.clear();
  for (auto& h : converted) headers.push_back({std::move(h.name), std::move(h.value)});
}

// The first value of query parameter `name` in `path` (not decoded: hashing needs no more).
std::optional<std::string> QueryParameter(std::string_view path, std::string_view name) {
  const std::size_t q = path.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// The value of cookie `name` in the Cookie headers (quotes around the value removed).
std::optional<std::string> Cookie(const std::vector<http1::OwnedHeader>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (!http1::EqualsIgnoreCase(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const std::size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const std::size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        std::string_view value = pair.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        return std::string(value);
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

}  // namespace

DownstreamConnection::DownstreamConnection(Worker& worker, int fd, event::Endpoint peer,
                                           event::Endpoint original_destination, bool redirected)
    : worker_(worker),
      fd_(fd),
      peer_(std::move(peer)),
      original_destination_(std::move(original_destination)),
      redirected_(redirected) {}

DownstreamConnection::~DownstreamConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool DownstreamConnection::Register() { return worker_.loop().Add(fd_, false, this); }

void DownstreamConnection::OnReady(std::uint32_t ready) {
  if (dead_) return;
  if (ready & event::kWritable) FlushDownstream();
  if (!dead_ && (ready & (event::kReadable | event::kClosed))) ReadDownstream();
}

void DownstreamConnection::Abort() { Close(); }

void DownstreamConnection::Close() {
  if (dead_) return;
  dead_ = true;
  CancelTimers();
  ReleaseUpstream(false);
  worker_.loop().Remove(fd_);
  ::close(fd_);
  fd_ = -1;
  worker_.Forget(this);
  worker_.mutable_counters().active_connections.fetch_sub(1, std::memory_order_relaxed);
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

bool DownstreamConnection::StartRequest(const http1::RequestHead& head) {
  worker_.mutable_counters().requests.fetch_add(1, std::memory_order_relaxed);
  start_ = event::Clock::now();
  request_ = std::make_unique<Request>();
  Request& r = *request_;
  r.method = head.method;
  r.version_minor = head.version_minor;
  r.keep_alive = head.keep_alive;
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
  if (const std::string* id = FindHeader(r.headers, "x-request-id")) {
    r.request_id = *id;
  } else {
    r.request_id = NewRequestId(worker_.random());
    r.headers.push_back({"x-request-id", r.request_id});
  }
  if (!FindHeader(r.headers, "x-forwarded-proto")) r.headers.push_back({"x-forwarded-proto", "http"});
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

// ---- routing ---------------------------------------------------------------------------------

void DownstreamConnection::Route() {
  config_ = worker_.config();
  if (!config_) return LocalReply(503, "NR", "no configuration received yet");
  const router::RouteTable* table =
      redirected_ ? config_->RoutesFor(original_destination_.address, original_destination_.port)
                  : config_->RoutesFor("0.0.0.0", target_port_);
  if (table == nullptr) {
    return LocalReply(404, "NR",
                      "no HTTP route configuration for port " +
                          std::to_string(redirected_ ? original_destination_.port : target_port_));
  }
  Request& r = *request_;
  std::vector<http1::Header> views;
  views.reserve(r.headers.size());
  for (const auto& h : r.headers) views.push_back({h.name, h.value});
  router::RequestView view;
  view.method = r.method;
  view.path = r.path;
  view.authority = r.authority;
  view.headers = views;
  decision_ = table->Decide(view, worker_.random());
  route_name_ = decision_.route_name;
  if (ApplyCors()) return;
  switch (decision_.kind) {
    case router::Decision::Kind::kNoRoute:
      return LocalReply(404, "NR", "");
    case router::Decision::Kind::kRedirect:
      return LocalReply(static_cast<int>(decision_.status), "-", "", {{"location", decision_.location}});
    case router::Decision::Kind::kDirectResponse:
      return LocalReply(static_cast<int>(decision_.status), "-", decision_.body);
    case router::Decision::Kind::kCluster:
      break;
  }
  if (decision_.delay) {
    phase_ = Phase::kDelaying;
    flags_ = "DI";
    delay_timer_ = worker_.loop().RunAfter(decision_.delay_duration, [this] {
      delay_timer_ = 0;
      AfterDelay();
    });
    return;
  }
  AfterDelay();
}

// Envoy's CORS filter: a preflight from an allowed origin is answered here; other requests from
// an allowed origin get the Access-Control-* headers on their answer. True when answered.
bool DownstreamConnection::ApplyCors() {
  const router::CorsPolicy* cors = decision_.cors;
  if (cors == nullptr) return false;
  const std::string* origin = FindHeader(request_->headers, "origin");
  if (origin == nullptr || origin->empty() || !cors->enabled.Sample(worker_.random())) return false;
  const bool preflight = request_->method == "OPTIONS" && FindHeader(request_->headers, "access-control-request-method");
  if (!cors->AllowsOrigin(*origin)) {
    if (preflight && !cors->forward_not_matching_preflights) {
      LocalReply(200, "-", "");
      return true;
    }
    return false;
  }
  extra_response_headers_.push_back({"access-control-allow-origin", *origin});
  if (cors->allow_credentials.value_or(false)) extra_response_headers_.push_back({"access-control-allow-credentials", "true"});
  if (preflight) {
    if (!cors->allow_methods.empty()) extra_response_headers_.push_back({"access-control-allow-methods", cors->allow_methods});
    if (!cors->allow_headers.empty()) extra_response_headers_.push_back({"access-control-allow-headers", cors->allow_headers});
    if (!cors->max_age.empty()) extra_response_headers_.push_back({"access-control-max-age", cors->max_age});
    LocalReply(200, "-", "");
    return true;
  }
  if (!cors->expose_headers.empty()) extra_response_headers_.push_back({"access-control-expose-headers", cors->expose_headers});
  return false;
}

// The request's key for a consistent-hash cluster, as Envoy combines the route's hash policies.
std::optional<std::uint64_t> DownstreamConnection::ComputeHash() {
  std::optional<std::uint64_t> hash;
  for (const router::HashPolicy& policy : decision_.hash_policies) {
    std::optional<std::string> key;
    switch (policy.kind) {
      case router::HashPolicy::Kind::kHeader: {
        std::string joined;
        for (const auto& h : request_->headers) {
          if (!http1::EqualsIgnoreCase(h.name, policy.name)) continue;
          if (!joined.empty()) joined += ',';
          joined += h.value;
        }
        if (!joined.empty()) key = std::move(joined);
        break;
      }
      case router::HashPolicy::Kind::kSourceIp:
        key = peer_.address;
        break;
      case router::HashPolicy::Kind::kQueryParameter:
        key = QueryParameter(request_->path, policy.name);
        break;
      case router::HashPolicy::Kind::kCookie:
        key = Cookie(request_->headers, policy.name);
        if (!key && policy.cookie_ttl) {
          // Envoy's generated cookie: a value derived from the client's address, hashed like a
          // cookie the client sends, and set on the answer so the next request carries it.
          char value[17];
          std::snprintf(value, sizeof value, "%016llx",
                        static_cast<unsigned long long>(upstream::HashKey(peer_.ToString())));
          key = value;
          std::string cookie = policy.name + "=\"" + *key + "\"; Max-Age=" + std::to_string(policy.cookie_ttl->count());
          if (!policy.cookie_path.empty()) cookie += "; Path=" + policy.cookie_path;
          extra_response_headers_.push_back({"set-cookie", cookie + "; HttpOnly"});
        }
        break;
    }
    if (key) {
      const std::uint64_t value = upstream::HashKey(*key);
      hash = hash ? (((*hash << 1) | (*hash >> 63)) ^ value) : value;
    }
    if (policy.terminal && hash) break;
  }
  return hash;
}

void DownstreamConnection::AfterDelay() {
  if (decision_.abort) {
    return LocalReply(static_cast<int>(decision_.abort_status), "FI", "fault filter abort");
  }
  Forward();
}

void DownstreamConnection::Forward() {
  auto cluster = config_->clusters.find(decision_.cluster);
  if (cluster == config_->clusters.end()) {
    return LocalReply(static_cast<int>(decision_.cluster_not_found_status), "NC",
                      "cluster " + std::string(decision_.cluster) + " not found");
  }
  cluster_ = cluster->second;
  if (cluster_->type == upstream::DiscoveryType::kOriginalDst) {
    return LocalReply(503, "UH", "original destination clusters are not served yet");
  }
  if (cluster_->hosts.empty()) return LocalReply(503, "UH", "no healthy upstream");
  cluster_state_ = worker_.StateFor(cluster_);
  if (cluster_->lb_policy == upstream::LbPolicy::kRingHash) request_hash_ = ComputeHash();
  if (request_->expect_continue && !request_->body_done) out_ += "HTTP/1.1 100 Continue\r\n\r\n";
  // max_stream_duration bounds the whole exchange; it caps the route timeout (both count from
  // here, where Envoy starts the route timeout at the end of the request: for the small
  // requests of a mesh the same).
  std::chrono::milliseconds timeout = decision_.timeout;
  if (decision_.max_stream_duration.count() > 0 &&
      (timeout.count() == 0 || decision_.max_stream_duration < timeout)) {
    timeout = decision_.max_stream_duration;
  }
  if (timeout.count() > 0) {
    route_timer_ = worker_.loop().RunAfter(timeout, [this] {
      route_timer_ = 0;
      OnTimeout(false);
    });
  }
  StartAttempt();
  FlushDownstream();
}

void DownstreamConnection::StartAttempt() {
  ++attempts_;
  auto pick = cluster_state_->balancer.Pick(*cluster_, worker_.upstream_random(),
                                            request_hash_ ? &*request_hash_ : nullptr);
  if (!pick) return LocalReply(503, "UH", "no healthy upstream");
  // Istio's retry policy asks for another endpoint than the ones tried (previous_hosts).
  const router::RetryPolicy* retry = decision_.retry;
  if (retry && retry->previous_hosts && !tried_hosts_.empty()) {
    // Envoy: up to host_selection_retry_max_attempts more picks (1 when unset), then the last.
    for (std::uint32_t i = 0; i < retry->host_selection_max_attempts &&
                              std::find(tried_hosts_.begin(), tried_hosts_.end(), *pick) != tried_hosts_.end();
         ++i) {
      pick = cluster_state_->balancer.Pick(*cluster_, worker_.upstream_random(), nullptr);
      if (!pick) return LocalReply(503, "UH", "no healthy upstream");
    }
  }
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
  // After a stale kept-alive connection failed, the retry must not get another idle one.
  auto acquired = pool_->Acquire(*this, /*fresh=*/fresh_connection_);
  fresh_connection_ = false;
  if (acquired.ready) {
    OnPoolReady(*acquired.ready);
  } else {
    upstream_ = acquired.pending;
    upstream_pending_ = true;
  }
}

// ---- upstream --------------------------------------------------------------------------------

void DownstreamConnection::OnPoolReady(upstream::UpstreamConnection& connection) {
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
  ApplyOps(decision_.request_header_ops, headers);
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
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return UpstreamReset("upstream write failed");
  }
  upstream_->SetWritable(!up_out_.empty());
  if (up_out_.empty() && request_ && request_->body_done) request_sent_ = true;
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
  ApplyOps(decision_.response_header_ops, headers);
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
  if (response_started_) {
    ReleaseUpstream(false);
    return Close();
  }
  ReleaseUpstream(false);
  if (per_try && MaybeRetry(false, /*reset=*/true, 0)) return;
  LocalReply(504, "UT", "upstream request timeout");
}

void DownstreamConnection::ReleaseUpstream(bool keep_alive) {
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

void DownstreamConnection::CancelTimers() {
  for (event::TimerId* timer : {&route_timer_, &try_timer_, &delay_timer_, &backoff_timer_}) {
    if (*timer) worker_.loop().Cancel(*timer);
    *timer = 0;
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
  if (decision_.kind != router::Decision::Kind::kNoRoute) ApplyOps(decision_.response_header_ops, headers);
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

void DownstreamConnection::EndExchange() {
  CancelTimers();
  const bool keep_alive = request_ && request_->keep_alive;
  if (worker_.options().on_request && request_) {
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
    worker_.options().on_request(record);
  }
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
