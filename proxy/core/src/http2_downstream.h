// The HTTP/2 connection manager: a client connection that speaks HTTP/2 with prior knowledge
// (h2c). The worker hands it over when the connection starts with the HTTP/2 preface. Each
// stream is an Http2Exchange (routing, local answers, the upstream attempt); this class owns the
// socket and the nghttp2 server session, and moves bytes between them. Everything runs on the
// worker's thread; the object deletes itself when closed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cmesh/event/event_loop.h"
#include "cmesh/http2/server_session.h"
#include "cmesh/proxy_core/worker.h"
#include "downstream_context.h"

namespace cmesh::proxy_core {

// Takes `fd` (closed on failure). False when the connection could not be started.
bool StartHttp2Downstream(Worker& worker, int fd, DownstreamContext context, std::string already_read);

class Http2Exchange;

class Http2Downstream final : public WorkerConnection, public event::IoWatcher, public http2::ServerCallbacks {
 public:
  Http2Downstream(Worker& worker, int fd, DownstreamContext context);
  ~Http2Downstream() override;
  // Registers with the loop and the worker, and serves `already_read`. False: delete it.
  bool Register(std::string already_read);
  void OnReady(std::uint32_t ready) override;
  void Abort() override { Close(); }
  // Graceful drain: GOAWAY now; the streams in flight finish, then the connection closes. (For
  // the worker's drain on SIGTERM, once worker connections have a drain hook.)
  void Drain() override;

  // For the exchanges.
  Worker& worker() { return worker_; }
  const DownstreamContext& context() const { return context_; }
  http2::ServerSession& session() { return session_; }
  // Writes what the session has to send (call after submitting).
  void Flush();

  // http2::ServerCallbacks.
  void OnRequestHeaders(std::int32_t stream_id, http2::HeaderList headers, bool end_stream) override;
  void OnData(std::int32_t stream_id, std::string_view data, bool end_stream) override;
  void OnTrailers(std::int32_t stream_id, http2::HeaderList trailers) override;
  void OnStreamClosed(std::int32_t stream_id, std::uint32_t error_code) override;
  void OnGoaway(std::int32_t last_stream_id, std::uint32_t error_code) override {}
  void OnSendBufferDrained(std::int32_t stream_id) override;

 private:
  Http2Exchange* Find(std::int32_t stream_id);
  void Read();
  void Close();
  void Retire(std::unique_ptr<Http2Exchange> exchange);
  void ArmIdleTimer();

  Worker& worker_;
  int fd_;
  DownstreamContext context_;
  http2::ServerSession session_;
  std::string out_;
  bool dead_ = false;
  bool want_write_ = false;
  bool reading_ = true;
  bool in_read_ = false;
  std::unordered_map<std::int32_t, std::unique_ptr<Http2Exchange>> exchanges_;
  // Finished exchanges, deleted from the loop (they may be on the stack when they finish).
  std::vector<std::unique_ptr<Http2Exchange>> retired_;
  bool cleanup_posted_ = false;
  event::TimerId idle_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cmesh::proxy_core
