#pragma once
// The upstream side: an HTTP/2 client session (cleartext, prior knowledge: the preface and
// SETTINGS are in the first output). Sans-IO like ServerSession.
#include <cstdint>

#include "cmesh/http2/session.h"

namespace cmesh::http2 {

class ClientCallbacks : public StreamCallbacks {
 public:
  // The final (non-1xx) response headers, ":status" first.
  virtual void OnResponseHeaders(std::int32_t stream_id, HeaderList headers, bool end_stream) = 0;
  // An interim 1xx response (100 Continue, 103 Early Hints); the final one follows.
  virtual void OnInformationalHeaders(std::int32_t stream_id, HeaderList headers) {}
};

class ClientSession : public Session {
 public:
  ClientSession(const Settings& settings, ClientCallbacks* callbacks);

  // A new stream with these request headers (":method", ":scheme", ":authority", ":path" first).
  // end_stream=false opens the body. The stream id, or -1 when no stream may be opened now (see
  // CanSubmitRequest) or the session failed.
  std::int32_t SubmitRequest(const HeaderList& headers, bool end_stream);

  // A new stream is allowed: no GOAWAY either way, not failed, and fewer open streams than the
  // peer's SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS arrive).
  bool CanSubmitRequest();
  std::uint32_t PeerMaxConcurrentStreams();

 protected:
  void DeliverHeaders(std::int32_t stream_id, Stream& stream, HeaderList headers, bool end_stream) override;

 private:
  ClientCallbacks* callbacks_;
};

}  // namespace cmesh::http2
