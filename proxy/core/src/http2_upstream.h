// The upstream side of the HTTP/2 connection manager: what one request attempt looks like to the
// downstream stream that made it (Http2UpstreamRequest / Http2UpstreamHandler), and the
// multiplexed HTTP/2 connections to an endpoint (prior knowledge, h2c) that carry such attempts
// when the cluster asks for HTTP/2.
//
// The HTTP/2 connections of a worker live in a registry of the worker's thread (thread_local):
// one set per (cluster, endpoint), each connection carrying up to the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS; a new connection is opened when all are full or going away.
// A connection closes itself when idle for the cluster's idle timeout (capped as the HTTP/1.1
// pools are), when the upstream closes it, or after a GOAWAY once its streams are done.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cmesh/event/event_loop.h"
#include "cmesh/event/socket.h"
#include "cmesh/http2/types.h"
#include "cmesh/upstream/cluster_info.h"

namespace cmesh::proxy_core {

// What an attempt reports to its exchange. After OnUpstreamReset or the end of the response
// (end_stream on headers/data, or trailers) no more calls come.
class Http2UpstreamHandler {
 public:
  virtual ~Http2UpstreamHandler() = default;
  // The final response head (":status" first, HTTP/2 style lowercase names, no hop-by-hop).
  virtual void OnUpstreamHeaders(http2::HeaderList headers, bool end_stream) = 0;
  virtual void OnUpstreamData(std::string_view data, bool end_stream) = 0;
  virtual void OnUpstreamTrailers(http2::HeaderList trailers) = 0;
  // The attempt failed. `connect_failure`: no connection could be made (flag UF), else the
  // connection or stream was lost (UC); `refused`: the upstream never processed it (safe to
  // retry). `detail` says why.
  virtual void OnUpstreamReset(bool connect_failure, bool refused, std::string_view detail) = 0;
  // The request body handed over so far has been written or sent as flow control allowed: the
  // exchange may let the client send more.
  virtual void OnUpstreamRequestDrained() = 0;
};

// One attempt, owned by the exchange. Destroying it cancels it (the HTTP/2 stream is reset, an
// HTTP/1.1 connection is closed unless the exchange finished cleanly).
class Http2UpstreamRequest {
 public:
  virtual ~Http2UpstreamRequest() = default;
  virtual void SendData(std::string_view data, bool end_stream) = 0;
  virtual void SendTrailers(const http2::HeaderList& trailers) = 0;
  // Bytes of the request body accepted but not yet on the wire (back-pressure towards the client).
  virtual std::size_t RequestBacklog() const = 0;
  // The exchange passed on `bytes` of response body: the upstream may send that much more.
  virtual void ConsumeResponse(std::size_t bytes) = 0;
  virtual std::string UpstreamHost() const = 0;
};

// A new attempt over HTTP/2 to `endpoint` of `cluster`, on an existing connection of this worker
// when one has room, else on a new one. `headers`: the request head as it goes upstream
// (pseudo-headers first). Runs on the worker's loop thread. nullptr when the connect failed at
// once (answer as for a connect failure); later failures come through the handler, never from
// inside this call.
std::unique_ptr<Http2UpstreamRequest> StartHttp2Upstream(event::EventLoop& loop, const upstream::ClusterInfo& cluster,
                                                         const event::Endpoint& endpoint,
                                                         std::chrono::milliseconds idle_timeout_cap,
                                                         http2::HeaderList headers, bool end_stream,
                                                         Http2UpstreamHandler* handler);

// Connections of this thread's registry (for tests and stats): open now, to any endpoint.
std::size_t Http2UpstreamConnectionCount();

}  // namespace cmesh::proxy_core
