#include "http2_exchange.h"
#include "upstream_choice.h"

#include <algorithm>
#include <cctype>

#include "cmesh/http1/message.h"
#include "cmesh/router/header_op.h"
#include "cmesh/router/request_view.h"
#include "http2_downstream.h"
#include "http2_fields.h"
#include "http2_grpc.h"
#include "http2_http1_upstream.h"
#include "request_fields.h"

namespace cmesh::proxy_core {

using http2_fields::DropRequestField;
using http2_fields::kBacklog;
using http2_fields::kFlagsHeader;

Http2Exchange::Http2Exchange(Http2Downstream& connection, std::int32_t stream_id)
    : connection_(connection), stream_id_(stream_id), start_(event::Clock::now()) {}

Http2Exchange::~Http2Exchange() {
  CancelTimers();
  if (retrying_ && cluster_state_) upstream::Release(cluster_state_->runtime->retries);
  if (request_slot_ && cluster_state_) upstream::Release(cluster_state_->runtime->requests);
}

// ---- request ---------------------------------------------------------------------------------

void Http2Exchange::OnRequestHeaders(http2::HeaderList headers, bool end_stream) {
  Worker& worker = connection_.worker();
  worker.mutable_counters().requests.fetch_add(1, std::memory_order_relaxed);
  request_ended_ = end_stream;
  grpc_ = IsGrpcRequest(headers);
  std::string host;
  for (auto& [name, value] : headers) {
    if (name == ":method") {
      method_ = value;
    } else if (name == ":path") {
      path_ = value;
    } else if (name == ":authority") {
      authority_ = value;
    } else if (name == ":scheme") {
      scheme_ = value;
    } else if (!name.empty() && name[0] == ':') {
      continue;  // :protocol (extended CONNECT) is not served
    } else if (name == "host") {
      host = value;
    } else if (!DropRequestField(name, value)) {
      headers_.push_back({std::move(name), std::move(value)});
    }
  }
  if (authority_.empty()) authority_ = host;
  if (scheme_.empty()) scheme_ = "http";
  if (const std::string* id = FindHeader(headers_, "x-request-id")) {
    request_id_ = *id;
  } else {
    request_id_ = NewRequestId(worker.random());
    headers_.push_back({"x-request-id", request_id_});
  }
  if (!FindHeader(headers_, "x-forwarded-proto")) headers_.push_back({"x-forwarded-proto", scheme_});
  if (connection_.context().inbound) {
    if (std::string* xff = FindHeaderMutable(headers_, "x-forwarded-for")) {
      *xff += ", " + connection_.context().peer.address;
    } else {
      headers_.push_back({"x-forwarded-for", connection_.context().peer.address});
    }
  }
  if (method_ == "CONNECT") return LocalReply(405, "-", "CONNECT is not served");
  Route();
}

void Http2Exchange::OnRequestData(std::string_view data, bool end_stream) {
  bytes_received_ += data.size();
  request_unconsumed_ += data.size();
  if (end_stream) request_ended_ = true;
  if (body_retriable_) {
    if (body_copy_.size() + data.size() <= connection_.worker().options().retry_buffer_limit) {
      body_copy_.append(data);
    } else {
      body_retriable_ = false;
      body_copy_.clear();
      body_copy_.shrink_to_fit();
    }
  }
  if (response_ended_ && !upstream_) {
    // Answered already (a local reply): the rest of the body goes nowhere.
    ConsumeRequest();
    return;
  }
  if (upstream_) {
    upstream_->SendData(data, end_stream);
    ConsumeRequest();
    if (request_ended_ && response_ended_) upstream_.reset();
    return;
  }
  early_body_.append(data);  // consumed once an attempt takes it: the window holds the client
}

void Http2Exchange::OnRequestTrailers(http2::HeaderList trailers) {
  request_ended_ = true;
  trailers_copy_ = trailers;
  if (upstream_) {
    upstream_->SendTrailers(trailers);
    if (response_ended_) upstream_.reset();
    return;
  }
  if (!response_ended_) early_trailers_ = std::move(trailers);
}

// The client's window reopens for what the upstream side took.
void Http2Exchange::ConsumeRequest() {
  if (closed_ || request_unconsumed_ == 0) return;
  if (upstream_ && upstream_->RequestBacklog() >= kBacklog) return;
  connection_.session().Consume(stream_id_, request_unconsumed_);
  request_unconsumed_ = 0;
  connection_.Flush();
}

void Http2Exchange::OnUpstreamRequestDrained() { ConsumeRequest(); }

// ---- routing ---------------------------------------------------------------------------------

void Http2Exchange::Route() {
  Worker& worker = connection_.worker();
  config_ = worker.config();
  if (!config_) return LocalReply(503, "NR", "no configuration received yet");
  const DownstreamContext& context = connection_.context();
  const router::RouteTable* table = nullptr;
  if (context.inline_routes) {
    table = context.inline_routes.get();
  } else if (!context.rds.empty()) {
    auto it = config_->routes.find(context.rds);
    if (it != config_->routes.end()) table = it->second.get();
  } else if (context.redirected) {
    table = config_->RoutesFor(context.original_destination.address, context.original_destination.port);
  } else {
    // An explicit-proxy client: the port of the request's authority (80 when it has none).
    std::uint16_t port = 80;
    const auto colon = authority_.rfind(':');
    if (colon != std::string::npos && authority_.find(']', colon) == std::string::npos) {
      const auto parsed = http2_fields::ParseDecimal(std::string_view(authority_).substr(colon + 1));
      port = static_cast<std::uint16_t>(parsed.value_or(80));
    }
    table = config_->RoutesFor("0.0.0.0", port);
  }
  if (table == nullptr) return LocalReply(404, "NR", "no HTTP route configuration for this connection");
  std::vector<http1::Header> views;
  views.reserve(headers_.size());
  for (const auto& h : headers_) views.push_back({h.name, h.value});
  router::RequestView view;
  view.method = method_;
  view.path = path_;
  view.authority = authority_;
  view.scheme = scheme_;
  view.headers = views;
  decision_ = table->Decide(view, worker.random());
  switch (decision_.kind) {
    case router::Decision::Kind::kNoRoute:
      return LocalReply(404, "NR", "");
    case router::Decision::Kind::kRedirect:
      return LocalReply(static_cast<int>(decision_.status), "-", "", std::nullopt, {{"location", decision_.location}});
    case router::Decision::Kind::kDirectResponse:
      return LocalReply(static_cast<int>(decision_.status), "-", decision_.body);
    case router::Decision::Kind::kCluster:
      break;
  }
  if (decision_.delay) {
    flags_ = "DI";
    delay_timer_ = worker.loop().RunAfter(decision_.delay_duration, [this] {
      delay_timer_ = 0;
      AfterDelay();
    });
    return;
  }
  AfterDelay();
}

void Http2Exchange::AfterDelay() {
  if (decision_.abort) {
    // An abort with grpc_status answers HTTP 200 and that status (as Envoy's fault filter).
    return LocalReply(static_cast<int>(decision_.abort_status), "FI", "fault filter abort",
                      decision_.abort_grpc_status);
  }
  Forward();
}

void Http2Exchange::Forward() {
  ClusterChoice choice = ChooseCluster(connection_.worker(), *config_, decision_, connection_.context());
  cluster_ = std::move(choice.cluster);
  if (!choice.ok()) return LocalReply(choice.status, choice.flags, choice.detail);
  cluster_state_ = std::move(choice.state);
  const std::chrono::milliseconds timeout = EffectiveRouteTimeout(decision_);
  if (timeout.count() > 0) {
    route_timer_ = connection_.worker().loop().RunAfter(timeout, [this] {
      route_timer_ = 0;
      connection_.worker().mutable_counters().upstream_timeouts.fetch_add(1, std::memory_order_relaxed);
      if (response_started_) return ResetDownstream("UT");
      LocalReply(504, "UT", "upstream request timeout");
    });
  }
  StartAttempt();
}

void Http2Exchange::StartAttempt() {
  Worker& worker = connection_.worker();
  ++attempts_;
  upstream::ClusterRuntime& runtime = *cluster_state_->runtime;
  if (!request_slot_) {
    // The cluster's max_requests circuit breaker (DestinationRule http2MaxRequests): one slot
    // for the exchange, from its first attempt to its end.
    if (!upstream::TryAcquire(runtime.requests, runtime.max_requests())) {
      runtime.stats.upstream_rq_pending_overflow.fetch_add(1, std::memory_order_relaxed);
      worker.mutable_counters().upstream_rq_pending_overflow.fetch_add(1, std::memory_order_relaxed);
      return LocalReply(503, "UO", "upstream connect error or disconnect/reset before headers. reset reason: overflow");
    }
    request_slot_ = true;
  }
  std::optional<std::uint64_t> hash;
  if (cluster_->lb_policy == upstream::LbPolicy::kRingHash) {
    // A cookie the client did not send is not generated here (the HTTP/1.1 path does that).
    hash = RequestHash(decision_.hash_policies, {headers_, path_, authority_, connection_.context().peer}, nullptr);
  }
  auto pick = PickHost(*cluster_state_, *cluster_, worker.random(), hash ? &*hash : nullptr, decision_.retry, tried_hosts_);
  if (!pick) return LocalReply(503, "UH", "no healthy upstream");
  tried_hosts_.push_back(*pick);
  host_index_ = *pick;
  if (attempts_ > 1) {
    // A retry replays the body from the copy (which holds everything the client sent so far).
    early_body_ = body_copy_;
    early_trailers_ = trailers_copy_;
  }
  const event::Endpoint& endpoint = cluster_->hosts[*pick].address;
  upstream_host_ = endpoint.ToString();

  const std::string authority = decision_.host_rewrite.empty() ? authority_ : std::string(decision_.host_rewrite);
  const std::string& path = decision_.path_rewrite.empty() ? path_ : decision_.path_rewrite;
  std::vector<http1::OwnedHeader> fields = headers_;
  if (decision_.include_request_attempt_count) fields.push_back({"x-envoy-attempt-count", std::to_string(attempts_)});
  router::ApplyHeaderOps(decision_.request_header_ops, fields);
  const bool headers_only = request_ended_ && early_body_.empty() && !early_trailers_;

  // The upstream protocol: HTTP/2 when the cluster says so (or follows the client's, HTTP/2 here).
  if (cluster_->upstream_protocol != upstream::ClusterInfo::UpstreamProtocol::kHttp1) {
    http2::HeaderList list;
    list.reserve(fields.size() + 4);
    list.emplace_back(":method", method_);
    list.emplace_back(":scheme", scheme_);
    list.emplace_back(":authority", authority);
    list.emplace_back(":path", path);
    for (auto& f : fields) {
      std::string name = f.name;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!DropRequestField(name, f.value)) list.emplace_back(std::move(name), std::move(f.value));
    }
    upstream_ = StartHttp2Upstream(worker.loop(), *cluster_, endpoint, worker.options().idle_timeout_cap,
                                   std::move(list), headers_only, this);
  } else {
    Http1UpstreamHead head;
    head.method = method_;
    head.path = path;
    head.headers.push_back({"host", authority});
    for (auto& f : fields) {
      if (f.name == "content-length") {
        head.content_length = http2_fields::ParseDecimal(f.value);
        continue;
      }
      head.headers.push_back(std::move(f));
    }
    head.end_stream = headers_only;
    if (head.end_stream) head.content_length.reset();
    upstream_ = StartHttp1Upstream(worker, cluster_state_, *pick, std::move(head), this);
  }
  if (!upstream_) {
    worker.mutable_counters().upstream_connect_failures.fetch_add(1, std::memory_order_relaxed);
    return LocalReply(503, "UF",
                      "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
  }
  if (decision_.retry && decision_.retry->per_try_timeout) {
    try_timer_ = worker.loop().RunAfter(*decision_.retry->per_try_timeout, [this] {
      try_timer_ = 0;
      OnPerTryTimeout();
    });
  }
  if (!headers_only) {
    if (!early_body_.empty() || (request_ended_ && !early_trailers_)) {
      upstream_->SendData(early_body_, request_ended_ && !early_trailers_);
    }
    early_body_.clear();
    if (early_trailers_) upstream_->SendTrailers(*early_trailers_);
    early_trailers_.reset();
  }
  ConsumeRequest();
}

}  // namespace cmesh::proxy_core
