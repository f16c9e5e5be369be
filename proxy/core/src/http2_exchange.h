// One stream of the HTTP/2 connection manager: the request's route decision (the same route
// tables, weighted clusters, header operations, faults and timeouts as the HTTP/1.1 path), the
// local answers (as gRPC statuses for gRPC requests), and one upstream attempt over HTTP/2 or
// HTTP/1.1 as the cluster asks, with the bodies streamed both ways under flow control: the
// client's bytes are consumed (its window reopened) only once the upstream side took them, and
// the upstream's only once the client side took them. Defined in http2_exchange.cc (request,
// routing, the attempt) and http2_exchange_response.cc (response, local answers, retries).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/http1/encoder.h"
#include "cmesh/http2/types.h"
#include "cmesh/proxy_core/worker.h"
#include "cmesh/router/decision.h"
#include "http2_upstream.h"

namespace cmesh::proxy_core {

class Http2Downstream;

class Http2Exchange final : public Http2UpstreamHandler {
 public:
  Http2Exchange(Http2Downstream& connection, std::int32_t stream_id);
  ~Http2Exchange() override;

  // From the downstream session.
  void OnRequestHeaders(http2::HeaderList headers, bool end_stream);
  void OnRequestData(std::string_view data, bool end_stream);
  void OnRequestTrailers(http2::HeaderList trailers);
  void OnResponseDrained();
  // The stream is gone (finished, reset by the client, or the connection closed): records the
  // request and cancels what is still under way. No call on the session after this.
  void OnStreamClosed(std::uint32_t error_code);

  // Http2UpstreamHandler.
  void OnUpstreamHeaders(http2::HeaderList headers, bool end_stream) override;
  void OnUpstreamData(std::string_view data, bool end_stream) override;
  void OnUpstreamTrailers(http2::HeaderList trailers) override;
  void OnUpstreamReset(bool connect_failure, bool refused, std::string_view detail) override;
  void OnUpstreamRequestDrained() override;

 private:
  void Route();
  void AfterDelay();
  void Forward();
  void StartAttempt();
  void LocalReply(int status, std::string_view flags, std::string_view body,
                  std::optional<std::uint32_t> grpc_status = std::nullopt,
                  std::vector<http1::OwnedHeader> extra = {});
  http2::HeaderList ResponseHeaders(http2::HeaderList headers) const;
  bool MaybeRetry(bool connect_failure, bool reset, bool refused, int status, std::optional<int> grpc_status);
  void OnPerTryTimeout();
  void ReportOutcome(upstream::AttemptResult result, int status);
  void ConsumeRequest();
  void ConsumeResponse();
  void ResponseEnded();
  void ResetDownstream(std::string_view flags);
  void CancelTimers();

  Http2Downstream& connection_;
  const std::int32_t stream_id_;
  bool closed_ = false;
  event::Clock::time_point start_{};

  // The request.
  std::string method_, path_, authority_, scheme_;
  std::vector<http1::OwnedHeader> headers_;  // regular fields, lowercase, with the proxy's additions
  std::string request_id_;
  bool grpc_ = false;
  bool request_ended_ = false;
  std::string early_body_;  // body that arrived before the attempt started
  std::optional<http2::HeaderList> early_trailers_;
  std::size_t request_unconsumed_ = 0;  // delivered by the client's session, not yet consumed
  // The body as sent so far, for a retry, while within the worker's retry buffer limit.
  std::string body_copy_;
  std::optional<http2::HeaderList> trailers_copy_;
  bool body_retriable_ = true;
  std::uint64_t bytes_received_ = 0;

  // Routing.
  ConfigSnapshotPtr config_;
  router::Decision decision_;
  std::shared_ptr<const upstream::ClusterInfo> cluster_;
  std::shared_ptr<Worker::ClusterState> cluster_state_;
  std::unique_ptr<Http2UpstreamRequest> upstream_;
  std::string upstream_host_;
  std::uint32_t attempts_ = 0;
  std::uint32_t retries_ = 0;
  bool retrying_ = false;  // counted in the cluster runtime's retries, until the end
  std::vector<std::size_t> tried_hosts_;
  std::size_t host_index_ = 0;  // of the current attempt
  event::TimerId backoff_timer_ = 0;
  event::TimerId try_timer_ = 0;
  bool request_slot_ = false;  // counted in the cluster runtime's requests (max_requests)
  event::TimerId route_timer_ = 0;
  event::TimerId delay_timer_ = 0;

  // The response.
  bool response_started_ = false;
  bool response_ended_ = false;
  std::size_t response_unconsumed_ = 0;  // upstream bytes not yet passed on to the client
  std::uint64_t bytes_sent_ = 0;
  int status_ = 0;
  int grpc_status_ = -1;
  std::string flags_;
};

}  // namespace cmesh::proxy_core
