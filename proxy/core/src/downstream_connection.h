// One client connection of a worker and the HTTP/1.1 exchanges on it, one at a time (pipelined
// requests wait in the input buffer): parse the request head, route it, answer locally (no route,
// redirect, direct response, fault abort) or forward it to an upstream connection from the pool,
// streaming the request body up and the response back, each re-framed so neither side can be
// confused about where a message ends. Retries, timeouts and fault delays are timers of the
// worker's loop. Everything runs on the worker's thread; the object deletes itself when closed.
// The class is defined in three files: downstream_connection.cc (lifecycle, reading requests,
// local answers, writing), downstream_routing.cc (the route decision, CORS, hash keys, faults)
// and downstream_upstream.cc (attempts, the upstream exchange, retries, timeouts).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/event/event_loop.h"
#include "cmesh/event/socket.h"
#include "cmesh/http1/chunked.h"
#include "cmesh/http1/encoder.h"
#include "cmesh/http1/message.h"
#include "cmesh/proxy_core/worker.h"
#include "cmesh/router/decision.h"
#include "cmesh/upstream/connection_pool.h"
#include "downstream_context.h"
#include "retry_state.h"

namespace cmesh::proxy_core {

class DownstreamConnection final : public WorkerConnection, public event::IoWatcher, private upstream::PoolCallbacks {
 public:
  static constexpr std::size_t kReadChunk = 16 * 1024;  // bytes read per recv, either side

  // Takes `fd`. `already_read`: what the worker read while choosing the filter chain (protocol
  // sniffing), the start of the first request.
  DownstreamConnection(Worker& worker, int fd, DownstreamContext context, std::string already_read = {});
  ~DownstreamConnection() override;
  // Registers with the loop and the worker (which then owns it), and serves what was read
  // already. False (and the object is to be deleted by the caller) when it could not.
  bool Register();
  void OnReady(std::uint32_t ready) override;
  // Closes at once (worker shutdown).
  void Abort() override;
  void Drain() override;

 private:
  enum class Phase {
    kIdle,            // waiting for (more of) a request head
    kDelaying,        // fault delay before forwarding
    kConnecting,      // waiting for the pool
    kForwarding,      // request going up / response head awaited
    kResponding,      // response head sent downstream, body streaming
    kBackoff,         // waiting to retry
  };

  // The request being served, copied out of the input buffer (which moves on).
  struct Request {
    std::string method, path, authority;
    int version_minor = 1;
    bool keep_alive = true;
    bool expect_continue = false;
    http1::BodyFraming framing = http1::BodyFraming::kNone;
    std::uint64_t content_length = 0;
    std::vector<http1::OwnedHeader> headers;  // end-to-end headers as received
    std::string request_id;
    std::string upgrade;  // the Upgrade value of an allowed upgrade request (WebSocket), else ""
    // Body reading state.
    std::uint64_t body_left = 0;  // kContentLength
    http1::ChunkedDecoder chunked;
    bool body_done = true;
    std::string body_copy;         // for retries, while within the limit
    bool body_retriable = true;    // body_copy holds the whole body sent so far
    std::uint64_t body_bytes = 0;
  };

  // Input.
  void ReadDownstream();
  // The client spoke HTTP/2 (prior knowledge): the socket goes to the HTTP/2 connection manager.
  // True when that happened (this object is then gone from the loop and deletes itself).
  bool MaybeHandOffHttp2();
  void ArmIdleTimer();
  const router::RouteTable* RouteTableForRequest();
  void ProcessInput();
  bool StartRequest(const http1::RequestHead& head);
  void ConsumeBody();
  void OnBodyData(std::string_view data);
  void OnBodyEnd();

  // Routing and local answers.
  void Route();
  bool ApplyCors();
  void AfterDelay();
  void Forward();
  void LocalReply(int status, std::string_view flags, std::string_view body,
                  std::vector<http1::OwnedHeader> headers = {});

  // Upstream.
  void StartAttempt();
  void OnPoolReady(upstream::UpstreamConnection& connection) override;
  void OnPoolFailure(upstream::PoolFailure reason, std::string_view detail) override;
  void WriteRequestHead();
  void FlushUpstream();
  void OnUpstreamReady(std::uint32_t ready);
  void ReadUpstream();
  void StartResponse(const http1::ResponseHead& head, std::size_t consumed);
  void PumpResponseBody();
  void OnResponseBodyData(std::string_view data);
  void FinishResponse(bool upstream_reusable);
  void UpstreamReset(std::string_view detail);
  bool MaybeRetry(bool connect_failure, bool reset, int status);
  void OnTimeout(bool per_try);
  void ReleaseUpstream(bool keep_alive);
  void CancelTimers();
  // Resilience (downstream_upstream.cc): circuit breakers, outlier reports, mirrors, the route
  // idle timeout.
  void Overflow();
  void ReportOutcome(upstream::AttemptResult result, int status);
  void MaybeStartMirrors();
  void ArmStreamIdleTimer(std::chrono::milliseconds wait);
  void OnStreamIdleTimer();

  // Output.
  void FlushDownstream();
  void UpdateInterest();
  void EndExchange();
  void EmitRequestRecord();
  // The upstream answered 101 to an allowed upgrade: the head goes to the client, and both
  // sockets become a byte tunnel (TcpProxyConnection); this object leaves.
  void SwitchProtocols(const http1::ResponseHead& head, std::size_t consumed);
  void Close();

  Worker& worker_;
  int fd_;
  DownstreamContext context_;
  bool dead_ = false;
  bool served_any_ = false;
  bool draining_ = false;  // close after the exchange in progress  // a request was read (so the connection is not HTTP/2)
  event::TimerId idle_timer_ = 0;  // the connection manager's idle timeout, while no request is in

  std::string in_;
  std::string out_;
  bool want_write_ = false;
  bool reading_ = true;
  bool peer_closed_ = false;
  bool close_after_flush_ = false;
  bool in_process_input_ = false;

  Phase phase_ = Phase::kIdle;
  std::unique_ptr<Request> request_;
  std::uint16_t target_port_ = 80;
  ConfigSnapshotPtr config_;  // the snapshot this exchange routes with (keeps decision_ valid)
  router::Decision decision_;
  std::string_view route_name_;
  // Added to this exchange's answer (CORS, a generated hash cookie).
  std::vector<http1::OwnedHeader> extra_response_headers_;
  std::optional<std::uint64_t> request_hash_;  // for consistent-hash clusters
  std::vector<std::size_t> tried_hosts_;        // host indexes of this request's attempts
  std::shared_ptr<const upstream::ClusterInfo> cluster_;
  std::shared_ptr<Worker::ClusterState> cluster_state_;
  std::size_t host_index_ = 0;
  upstream::ConnectionPool* pool_ = nullptr;
  upstream::UpstreamConnection* upstream_ = nullptr;  // handed out, or pending (connecting)
  bool upstream_pending_ = false;
  bool upstream_reused_ = false;
  bool upstream_wrote_ = false;
  bool upstream_eof_ = false;
  std::string upstream_host_;
  std::string early_body_;  // request body encoded for upstream, before a connection is ready
  std::string up_out_;
  std::string up_in_;
  bool request_sent_ = false;       // head and the whole body written upstream
  bool response_head_done_ = false;
  bool response_started_ = false;   // a response byte was queued downstream
  http1::BodyFraming response_framing_ = http1::BodyFraming::kNone;  // as received
  bool downstream_chunked_ = false;  // re-encoding the body as chunked downstream
  std::uint64_t response_body_left_ = 0;
  http1::ChunkedDecoder response_chunked_;
  bool response_keep_alive_ = false;
  std::uint32_t attempts_ = 0;
  std::uint32_t retries_ = 0;
  bool stale_retry_used_ = false;
  bool fresh_connection_ = false;  // the next attempt must open a new connection
  event::TimerId route_timer_ = 0;
  event::TimerId try_timer_ = 0;
  event::TimerId delay_timer_ = 0;
  event::TimerId backoff_timer_ = 0;
  RetryState retry_state_;  // this exchange's circuit breaker slots and idle timeout
  bool mirrored_ = false;   // the route's mirrors were started for this exchange
  event::Clock::time_point start_{};
  std::string flags_;
  std::uint64_t bytes_sent_ = 0;
  int status_ = 0;

  class UpstreamWatcher final : public event::IoWatcher {
   public:
    explicit UpstreamWatcher(DownstreamConnection& owner) : owner_(owner) {}
    void OnReady(std::uint32_t ready) override { owner_.OnUpstreamReady(ready); }

   private:
    DownstreamConnection& owner_;
  };
  UpstreamWatcher upstream_watcher_{*this};
};

}  // namespace cmesh::proxy_core
