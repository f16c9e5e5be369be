#pragma once
// The downstream side: an HTTP/2 server session for cleartext prior-knowledge connections (the
// client preface is expected first). Sans-IO: Receive() the bytes read, write TakeOutput().
#include <cstdint>

#include "cmesh/http2/session.h"

namespace cmesh::http2 {

class ServerCallbacks : public StreamCallbacks {
 public:
  // A new request stream: pseudo-headers (:method, :scheme, :authority, :path) first, as received.
  // nghttp2 already checked them (RFC 9113 §8.3) and content-length against the DATA.
  virtual void OnRequestHeaders(std::int32_t stream_id, HeaderList headers, bool end_stream) = 0;
};

class ServerSession : public Session {
 public:
  // The session's SETTINGS are in the output at once. `callbacks` must outlive the session.
  ServerSession(const Settings& settings, ServerCallbacks* callbacks);

  // Response headers (":status" first). end_stream=false opens the body: SubmitData/SubmitTrailers.
  // A gRPC trailers-only answer is SubmitResponse(headers with grpc-status, true).
  bool SubmitResponse(std::int32_t stream_id, const HeaderList& headers, bool end_stream);
  // An interim 1xx response before the final one (100 Continue, 103 Early Hints).
  bool SubmitInformational(std::int32_t stream_id, const HeaderList& headers);

 protected:
  void DeliverHeaders(std::int32_t stream_id, Stream& stream, HeaderList headers, bool end_stream) override;

 private:
  ServerCallbacks* callbacks_;
};

}  // namespace cmesh::http2
