// The response half of an HTTP/2 stream's exchange: the upstream's answer passed on (with the
// route's response header operations), local answers (gRPC trailers-only for gRPC clients),
// retries, per-try timeouts, outlier reports, and the request record at the end.
#include <algorithm>

#include "cmesh/router/header_op.h"
#include "http2_downstream.h"
#include "http2_exchange.h"
#include "http2_fields.h"
#include "http2_grpc.h"

namespace cmesh::proxy_core {

using http2_fields::kBacklog;
using http2_fields::kFlagsHeader;

// ---- response --------------------------------------------------------------------------------

// The upstream's response head with the route's response header operations applied.
http2::HeaderList Http2Exchange::ResponseHeaders(http2::HeaderList headers) const {
  if (decision_.response_header_ops.empty()) return headers;
  http2::HeaderList out;
  std::vector<http1::OwnedHeader> fields;
  for (auto& h : headers) {
    if (!h.first.empty() && h.first[0] == ':') {
      out.push_back(std::move(h));
    } else {
      fields.push_back({std::move(h.first), std::move(h.second)});
    }
  }
  router::ApplyHeaderOps(decision_.response_header_ops, fields);
  for (auto& f : fields) out.emplace_back(std::move(f.name), std::move(f.value));
  return out;
}

void Http2Exchange::OnUpstreamHeaders(http2::HeaderList headers, bool end_stream) {
  if (closed_) return;
  const std::string_view status = http2::FindHeader(headers, ":status");
  const int code = static_cast<int>(http2_fields::ParseDecimal(status).value_or(0));
  ReportOutcome(upstream::AttemptResult::kResponse, code);
  if (MaybeRetry(false, false, false, code, grpc_ ? GrpcStatusOf(headers) : std::nullopt)) return;
  if (try_timer_) connection_.worker().loop().Cancel(try_timer_);
  try_timer_ = 0;
  status_ = code;
  if (end_stream && grpc_) {
    if (auto g = GrpcStatusOf(headers)) grpc_status_ = *g;  // trailers-only
  }
  response_started_ = true;
  connection_.session().SubmitResponse(stream_id_, ResponseHeaders(std::move(headers)), end_stream);
  connection_.Flush();
  if (end_stream) ResponseEnded();
}

void Http2Exchange::OnUpstreamData(std::string_view data, bool end_stream) {
  if (closed_) return;
  bytes_sent_ += data.size();
  response_unconsumed_ += data.size();
  connection_.session().SubmitData(stream_id_, data, end_stream);
  connection_.Flush();
  ConsumeResponse();
  if (end_stream) ResponseEnded();
}

void Http2Exchange::OnUpstreamTrailers(http2::HeaderList trailers) {
  if (closed_) return;
  if (auto g = GrpcStatusOf(trailers)) grpc_status_ = *g;
  connection_.session().SubmitTrailers(stream_id_, trailers);
  connection_.Flush();
  ResponseEnded();
}

// The upstream's window reopens for what the client side took.
void Http2Exchange::ConsumeResponse() {
  if (!upstream_ || response_unconsumed_ == 0) return;
  if (!closed_ && connection_.session().BufferedBytes(stream_id_) >= kBacklog) return;
  const std::size_t n = response_unconsumed_;
  response_unconsumed_ = 0;
  upstream_->ConsumeResponse(n);
}

void Http2Exchange::OnResponseDrained() { ConsumeResponse(); }

void Http2Exchange::ResponseEnded() {
  response_ended_ = true;
  CancelTimers();
  // A request still streaming keeps its attempt (the upstream may read on); otherwise done.
  if (request_ended_) upstream_.reset();
}

void Http2Exchange::OnUpstreamReset(bool connect_failure, bool refused, std::string_view detail) {
  if (closed_) return;
  upstream_.reset();
  ReportOutcome(connect_failure ? upstream::AttemptResult::kConnectFailure : upstream::AttemptResult::kReset, 0);
  if (connect_failure) {
    connection_.worker().mutable_counters().upstream_connect_failures.fetch_add(1, std::memory_order_relaxed);
  }
  if (response_started_) return ResetDownstream("UC");
  if (MaybeRetry(connect_failure, true, refused, 0, std::nullopt)) return;
  LocalReply(503, connect_failure ? "UF" : "UC",
             std::string("upstream connect error or disconnect/reset before headers. ") + std::string(detail));
}

// ---- local answers ---------------------------------------------------------------------------

void Http2Exchange::LocalReply(int status, std::string_view flags, std::string_view body,
                               std::optional<std::uint32_t> grpc_status, std::vector<http1::OwnedHeader> extra) {
  if (closed_) return;
  if (response_started_) return ResetDownstream(flags);
  upstream_.reset();
  CancelTimers();
  if (flags != "-") flags_ = flags;
  std::vector<http1::OwnedHeader> fields = std::move(extra);
  http2::HeaderList headers;
  std::string text;
  if (grpc_) {
    // gRPC clients read the outcome from grpc-status, so the answer is a trailers-only response:
    // HTTP 200, the status mapped from the HTTP one (or the fault's own), the reason as message.
    const std::uint32_t code = grpc_status ? *grpc_status : GrpcStatusForHttp(status);
    grpc_status_ = static_cast<int>(code);
    status_ = 200;
    headers.emplace_back(":status", "200");
    fields.push_back({"content-type", "application/grpc"});
    fields.push_back({"grpc-status", std::to_string(code)});
    if (!body.empty()) fields.push_back({"grpc-message", GrpcPercentEncode(body)});
  } else {
    status_ = status;
    text = std::string(body);
    if (!text.empty() && text.back() != '\n') text += '\n';
    headers.emplace_back(":status", std::to_string(status));
    fields.push_back({"content-type", "text/plain"});
    if (method_ != "HEAD") fields.push_back({"content-length", std::to_string(text.size())});
  }
  if (flags != "-") fields.push_back({kFlagsHeader, std::string(flags)});
  if (!request_id_.empty()) fields.push_back({"x-request-id", request_id_});
  if (decision_.kind != router::Decision::Kind::kNoRoute) router::ApplyHeaderOps(decision_.response_header_ops, fields);
  for (auto& f : fields) headers.emplace_back(std::move(f.name), std::move(f.value));
  http2::ServerSession& session = connection_.session();
  const bool body_follows = !grpc_ && !text.empty() && method_ != "HEAD";
  session.SubmitResponse(stream_id_, headers, !body_follows);
  if (body_follows) {
    bytes_sent_ += text.size();
    session.SubmitData(stream_id_, text, true);
  }
  response_started_ = true;
  response_ended_ = true;
  // The client may still be sending: its bytes are consumed as they come, and dropped.
  early_body_.clear();
  early_trailers_.reset();
  ConsumeRequest();
  connection_.Flush();
}

// After the response began, an error can only end the stream abruptly.
void Http2Exchange::ResetDownstream(std::string_view flags) {
  if (closed_) return;
  if (flags != "-") flags_ = flags;
  upstream_.reset();
  CancelTimers();
  response_ended_ = true;
  connection_.session().ResetStream(stream_id_, http2::kInternalError);
  connection_.Flush();
}

void Http2Exchange::CancelTimers() {
  event::EventLoop& loop = connection_.worker().loop();
  if (route_timer_) loop.Cancel(route_timer_);
  if (delay_timer_) loop.Cancel(delay_timer_);
  if (backoff_timer_) loop.Cancel(backoff_timer_);
  if (try_timer_) loop.Cancel(try_timer_);
  route_timer_ = delay_timer_ = backoff_timer_ = try_timer_ = 0;
}

// The attempt's outcome for the cluster's outlier detection (shared by the workers).
void Http2Exchange::ReportOutcome(upstream::AttemptResult result, int status) {
  if (!cluster_state_ || !cluster_->outlier) return;
  Worker& worker = connection_.worker();
  if (cluster_state_->runtime->Report(*cluster_, cluster_state_->health, host_index_, result, status,
                                      worker.loop().now(), worker.random())) {
    worker.mutable_counters().outlier_detection_ejections_enforced.fetch_add(1, std::memory_order_relaxed);
  }
}

// An attempt without response headers within the per-try timeout: retried as Envoy does (a
// per-try timeout counts as a 504 for the retry conditions), else answered 504 UT.
void Http2Exchange::OnPerTryTimeout() {
  if (closed_ || response_started_) return;
  connection_.worker().mutable_counters().upstream_timeouts.fetch_add(1, std::memory_order_relaxed);
  upstream_.reset();
  ReportOutcome(upstream::AttemptResult::kTimeout, 0);
  if (MaybeRetry(false, false, false, 504, std::nullopt)) return;
  LocalReply(504, "UT", "upstream request timeout");
}

// The route's retry policy, as the HTTP/1.1 path applies it: before any byte of the response
// went to the client, with the body still in the retry buffer, within the cluster's retry
// budget (or max_retries), after Envoy's jittered back-off. gRPC statuses of a trailers-only
// answer count for the gRPC retry conditions (cancelled, deadline-exceeded, internal,
// resource-exhausted, unavailable).
bool Http2Exchange::MaybeRetry(bool connect_failure, bool reset, bool refused, int status,
                               std::optional<int> grpc_status) {
  const router::RetryPolicy* policy = decision_.retry;
  if (policy == nullptr || retries_ >= policy->num_retries || !body_retriable_ || response_started_ ||
      !cluster_state_) {
    return false;
  }
  using namespace router;
  bool retry = false;
  if (status > 0) {
    retry = policy->RetriableStatus(static_cast<std::uint32_t>(status));
    if (!retry && grpc_status) {
      switch (*grpc_status) {
        case 1: retry = policy->Has(kRetryOnCancelled); break;
        case 4: retry = policy->Has(kRetryOnDeadlineExceeded); break;
        case 8: retry = policy->Has(kRetryOnResourceExhausted); break;
        case 13: retry = policy->Has(kRetryOnInternal); break;
        case 14: retry = policy->Has(kRetryOnUnavailable); break;
        default: break;
      }
    }
  } else if (connect_failure) {
    retry = policy->Has(kRetryOnConnectFailure) || policy->Has(kRetryOn5xx) || policy->Has(kRetryOnGatewayError) ||
            policy->Has(kRetryOnReset);
  } else if (reset) {
    retry = policy->Has(kRetryOn5xx) || policy->Has(kRetryOnGatewayError) || policy->Has(kRetryOnReset) ||
            (refused && (policy->Has(kRetryOnRefusedStream) || policy->Has(kRetryOnResetBeforeRequest)));
  }
  if (!retry) return false;
  Worker& worker = connection_.worker();
  upstream::ClusterRuntime& runtime = *cluster_state_->runtime;
  if (!runtime.CanRetry(*cluster_, retrying_)) {
    runtime.stats.upstream_rq_retry_overflow.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!retrying_) {
    runtime.retries.fetch_add(1, std::memory_order_relaxed);
    retrying_ = true;
  }
  ++retries_;
  worker.mutable_counters().retries.fetch_add(1, std::memory_order_relaxed);
  upstream_.reset();
  if (try_timer_) worker.loop().Cancel(try_timer_);
  try_timer_ = 0;
  // Envoy's back-off: a random wait below base * 2^(retries - 1), at most max (10 x base).
  const auto base = policy->backoff_base.value_or(std::chrono::milliseconds(25));
  const auto max = policy->backoff_max.value_or(base * 10);
  const std::int64_t ceiling =
      std::min<std::int64_t>(base.count() << std::min<std::uint32_t>(retries_ - 1, 20), max.count());
  const auto wait = std::chrono::milliseconds(
      ceiling > 0 ? static_cast<std::int64_t>(worker.random().Next() % static_cast<std::uint64_t>(ceiling)) : 0);
  backoff_timer_ = worker.loop().RunAfter(wait, [this] {
    backoff_timer_ = 0;
    StartAttempt();
  });
  return true;
}

void Http2Exchange::OnStreamClosed(std::uint32_t error_code) {
  if (closed_) return;
  closed_ = true;
  CancelTimers();
  upstream_.reset();
  if (retrying_ && cluster_state_) upstream::Release(cluster_state_->runtime->retries);
  if (request_slot_ && cluster_state_) upstream::Release(cluster_state_->runtime->requests);
  retrying_ = request_slot_ = false;
  if (error_code != http2::kNoError && flags_.empty() && !response_ended_) flags_ = "DR";  // the client reset it
  Worker& worker = connection_.worker();
  if (!worker.options().on_request) return;
  RequestRecord record;
  record.method = method_;
  record.protocol_major = 2;
  record.protocol_minor = 0;
  record.path = path_;
  record.authority = authority_;
  record.status = status_;
  record.flags = flags_.empty() ? "-" : flags_;
  record.bytes_received = bytes_received_;
  record.bytes_sent = bytes_sent_;
  record.duration = std::chrono::duration_cast<std::chrono::microseconds>(event::Clock::now() - start_);
  record.upstream_host = upstream_host_.empty() ? "-" : upstream_host_;
  record.cluster = cluster_ ? cluster_->name : "-";
  record.route = decision_.route_name.empty() ? "-" : std::string(decision_.route_name);
  record.request_id = request_id_;
  record.attempts = attempts_;
  record.inbound = connection_.context().inbound;
  if (cluster_) record.destination_service = cluster_->service_host;
  record.grpc_status = grpc_status_;
  worker.options().on_request(record);
}

}  // namespace cmesh::proxy_core
