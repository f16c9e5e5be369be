#pragma once
// What the server and client HTTP/2 sessions share: one nghttp2 session fed with bytes and drained
// of bytes, per-stream send buffers released as flow control allows, and receive-side flow
// control that only reopens the window when the caller says it has forwarded the data.
//
// Threading: none. A session is used from one thread. Callbacks run inside Receive(), the Submit*
// calls and TakeOutput(); they may call Submit*/ResetStream/Consume/Goaway on the same session
// (the output they produce is picked up by the next TakeOutput()), but must not call Receive() or
// destroy the session.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cmesh/http2/types.h"

struct nghttp2_session;

namespace cmesh::http2 {

// The callbacks both sides receive. Headers callbacks are declared by each side.
class StreamCallbacks {
 public:
  virtual ~StreamCallbacks() = default;
  // A piece of a stream's body. The bytes count against the windows until Consume(): call it when
  // they have been forwarded. end_stream comes last, possibly with empty data.
  virtual void OnData(std::int32_t stream_id, std::string_view data, bool end_stream) = 0;
  // Trailing headers; they always end the stream.
  virtual void OnTrailers(std::int32_t stream_id, HeaderList trailers) = 0;
  // The stream is gone (both sides ended, or reset: error_code says which). Called once per
  // stream the caller has seen headers of (or opened), never for streams refused before that.
  virtual void OnStreamClosed(std::int32_t stream_id, std::uint32_t error_code) = 0;
  // The peer sent GOAWAY: streams above last_stream_id were not processed (safe to retry).
  virtual void OnGoaway(std::int32_t last_stream_id, std::uint32_t error_code) = 0;
  // Everything submitted on the stream was handed to the output: the sender may read more.
  virtual void OnSendBufferDrained(std::int32_t stream_id) {}
};

class Session {
 public:
  virtual ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Feeds bytes read from the transport. false when the session failed (error() says why); a
  // GOAWAY is then in the output and the connection should be closed once it is written.
  bool Receive(std::string_view bytes);
  // The bytes to write to the transport now (possibly empty).
  std::string TakeOutput();
  bool HasOutput();

  // Body bytes for a stream opened with end_stream=false; buffered and sent as the peer's windows
  // allow. false if the stream is unknown, closed for sending or the session failed.
  bool SubmitData(std::int32_t stream_id, std::string_view data, bool end_stream);
  // Trailers end the stream after the buffered data.
  bool SubmitTrailers(std::int32_t stream_id, const HeaderList& trailers);
  bool ResetStream(std::int32_t stream_id, std::uint32_t error_code);
  // GOAWAY with the last stream this side processed; existing streams may finish.
  void Goaway(std::uint32_t error_code = kNoError);
  // The caller forwarded `bytes` of this stream's received data: let the peer send that much more.
  void Consume(std::int32_t stream_id, std::size_t bytes);

  // Bytes submitted on the stream but not yet handed to the output (send-side back-pressure).
  std::size_t BufferedBytes(std::int32_t stream_id) const;
  // Bytes received on the stream and not yet consumed.
  std::size_t UnconsumedBytes(std::int32_t stream_id) const;
  std::size_t ActiveStreams() const { return streams_.size(); }
  bool HasStream(std::int32_t stream_id) const { return streams_.count(stream_id) != 0; }

  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  // Nothing more to read or write (GOAWAY exchanged and streams finished, or failed).
  bool Done();

 protected:
  struct Stream {
    std::string send_buffer;     // submitted body bytes not yet taken by nghttp2
    std::size_t send_offset = 0;
    bool has_data_source = false;  // opened with a body: DATA comes from send_buffer
    bool send_end = false;         // the caller has ended its side
    bool deferred = false;         // the data source said "nothing yet"
    bool has_trailers = false;
    HeaderList trailers;
    bool visible = false;          // the caller knows this stream (gets OnStreamClosed)
    bool final_headers = false;    // non-1xx headers received: later headers are trailers
    HeaderList recv_headers;       // the block being received
    std::size_t recv_header_bytes = 0;
    std::size_t unconsumed = 0;
  };

  Session(const Settings& settings, bool server, StreamCallbacks* callbacks);
  // Headers of a complete HEADERS block, in the first (non-trailer) position.
  virtual void DeliverHeaders(std::int32_t stream_id, Stream& stream, HeaderList headers, bool end_stream) = 0;

  nghttp2_session* session() { return session_; }
  Stream* Find(std::int32_t stream_id);
  Stream& Open(std::int32_t stream_id);
  // Wire helpers for the sides' submits: a data source reading this session's stream buffers.
  bool SubmitHeadersWithBody(std::int32_t stream_id, const HeaderList& headers, bool end_stream, bool request,
                             std::int32_t* new_stream_id);
  bool SubmitInterim(std::int32_t stream_id, const HeaderList& headers);
  void Fail(std::string reason);
  void Flush();

 private:
  friend struct SessionGlue;
  nghttp2_session* session_ = nullptr;
  StreamCallbacks* callbacks_;
  Settings settings_;
  std::unordered_map<std::int32_t, Stream> streams_;
  std::string output_;
  std::string last_library_error_;  // nghttp2's message for the last error it reported
  std::string error_;
  bool failed_ = false;
  bool local_goaway_ = false;
  int in_library_ = 0;  // inside nghttp2_session_mem_recv/mem_send: no re-entrant flush
};

}  // namespace cmesh::http2
