#pragma once
// A ClientSession wired to a ServerSession in memory, with callbacks that record what arrived.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cmesh/http2/client_session.h"
#include "cmesh/http2/server_session.h"

namespace cmesh::http2::testing {

// What one side saw of one stream.
struct StreamLog {
  HeaderList headers;
  std::vector<HeaderList> informational;
  std::string body;
  std::vector<std::string> chunks;
  bool end_stream = false;
  HeaderList trailers;
  bool has_trailers = false;
  bool closed = false;
  std::uint32_t close_code = 0xffffffff;
  std::vector<std::string> events;  // "headers", "data:<bytes>", "end", "trailers", "closed"
};

struct Recorder {
  std::map<std::int32_t, StreamLog> streams;
  std::vector<std::int32_t> opened;  // request streams in arrival order (server side)
  bool goaway = false;
  std::int32_t goaway_last_stream = -1;
  std::uint32_t goaway_code = 0;
  bool auto_consume = true;  // Consume() each chunk as it arrives
  int drained = 0;
};

class RecordingServer : public ServerCallbacks {
 public:
  explicit RecordingServer(Recorder* log) : log_(log) {}
  void Bind(Session* session) { session_ = session; }
  void OnRequestHeaders(std::int32_t id, HeaderList headers, bool end_stream) override;
  void OnData(std::int32_t id, std::string_view data, bool end_stream) override;
  void OnTrailers(std::int32_t id, HeaderList trailers) override;
  void OnStreamClosed(std::int32_t id, std::uint32_t code) override;
  void OnGoaway(std::int32_t last, std::uint32_t code) override;
  void OnSendBufferDrained(std::int32_t) override { ++log_->drained; }

 private:
  Recorder* log_;
  Session* session_ = nullptr;
};

class RecordingClient : public ClientCallbacks {
 public:
  explicit RecordingClient(Recorder* log) : log_(log) {}
  void Bind(Session* session) { session_ = session; }
  void OnResponseHeaders(std::int32_t id, HeaderList headers, bool end_stream) override;
  void OnInformationalHeaders(std::int32_t id, HeaderList headers) override;
  void OnData(std::int32_t id, std::string_view data, bool end_stream) override;
  void OnTrailers(std::int32_t id, HeaderList trailers) override;
  void OnStreamClosed(std::int32_t id, std::uint32_t code) override;
  void OnGoaway(std::int32_t last, std::uint32_t code) override;
  void OnSendBufferDrained(std::int32_t) override { ++log_->drained; }

 private:
  Recorder* log_;
  Session* session_ = nullptr;
};

// Both sessions and their logs; Pump() moves bytes both ways until neither side has output.
struct SessionPair {
  explicit SessionPair(const Settings& server_settings = {}, const Settings& client_settings = {});
  // Returns false if either side failed.
  bool Pump();
  Recorder server_log, client_log;
  RecordingServer server_callbacks{&server_log};
  RecordingClient client_callbacks{&client_log};
  ServerSession server;
  ClientSession client;
};

HeaderList Request(const std::string& method, const std::string& path);

// Frames of a byte string as (type, error code of RST_STREAM/GOAWAY or 0), after an optional
// client preface.
struct Frame {
  std::uint8_t type;
  std::uint8_t flags;
  std::uint32_t stream_id;
  std::uint32_t error_code;
};
std::vector<Frame> ParseFrames(std::string_view bytes);

}  // namespace cmesh::http2::testing
