#include "session_pair.h"

namespace cmesh::http2::testing {

namespace {

void RecordData(Recorder* log, Session* session, std::int32_t id, std::string_view data, bool end_stream) {
  StreamLog& s = log->streams[id];
  if (!data.empty()) {
    s.body.append(data);
    s.chunks.emplace_back(data);
    s.events.push_back("data:" + std::string(data));
    if (log->auto_consume && session != nullptr) session->Consume(id, data.size());
  }
  if (end_stream) {
    s.end_stream = true;
    s.events.push_back("end");
  }
}

void RecordTrailers(Recorder* log, std::int32_t id, HeaderList trailers) {
  StreamLog& s = log->streams[id];
  s.trailers = std::move(trailers);
  s.has_trailers = true;
  s.events.push_back("trailers");
}

void RecordClosed(Recorder* log, std::int32_t id, std::uint32_t code) {
  StreamLog& s = log->streams[id];
  s.closed = true;
  s.close_code = code;
  s.events.push_back("closed");
}

void RecordGoaway(Recorder* log, std::int32_t last, std::uint32_t code) {
  log->goaway = true;
  log->goaway_last_stream = last;
  log->goaway_code = code;
}

}  // namespace

void RecordingServer::OnRequestHeaders(std::int32_t id, HeaderList headers, bool end_stream) {
  StreamLog& s = log_->streams[id];
  s.headers = std::move(headers);
  s.events.push_back("headers");
  log_->opened.push_back(id);
  if (end_stream) {
    s.end_stream = true;
    s.events.push_back("end");
  }
}
void RecordingServer::OnData(std::int32_t id, std::string_view data, bool end_stream) {
  RecordData(log_, session_, id, data, end_stream);
}
void RecordingServer::OnTrailers(std::int32_t id, HeaderList trailers) {
  RecordTrailers(log_, id, std::move(trailers));
}
void RecordingServer::OnStreamClosed(std::int32_t id, std::uint32_t code) { RecordClosed(log_, id, code); }
void RecordingServer::OnGoaway(std::int32_t last, std::uint32_t code) { RecordGoaway(log_, last, code); }

void RecordingClient::OnResponseHeaders(std::int32_t id, HeaderList headers, bool end_stream) {
  StreamLog& s = log_->streams[id];
  s.headers = std::move(headers);
  s.events.push_back("headers");
  if (end_stream) {
    s.end_stream = true;
    s.events.push_back("end");
  }
}
void RecordingClient::OnInformationalHeaders(std::int32_t id, HeaderList headers) {
  log_->streams[id].informational.push_back(std::move(headers));
  log_->streams[id].events.push_back("informational");
}
void RecordingClient::OnData(std::int32_t id, std::string_view data, bool end_stream) {
  RecordData(log_, session_, id, data, end_stream);
}
void RecordingClient::OnTrailers(std::int32_t id, HeaderList trailers) {
  RecordTrailers(log_, id, std::move(trailers));
}
void RecordingClient::OnStreamClosed(std::int32_t id, std::uint32_t code) { RecordClosed(log_, id, code); }
void RecordingClient::OnGoaway(std::int32_t last, std::uint32_t code) { RecordGoaway(log_, last, code); }

SessionPair::SessionPair(const Settings& server_settings, const Settings& client_settings)
    : server(server_settings, &server_callbacks), client(client_settings, &client_callbacks) {
  server_callbacks.Bind(&server);
  client_callbacks.Bind(&client);
}

bool SessionPair::Pump() {
  for (int round = 0; round < 10000; ++round) {
    const std::string to_server = client.TakeOutput();
    if (!to_server.empty() && !server.Receive(to_server)) return false;
    const std::string to_client = server.TakeOutput();
    if (!to_client.empty() && !client.Receive(to_client)) return false;
    if (to_server.empty() && to_client.empty()) return true;
  }
  return true;
}

HeaderList Request(const std::string& method, const std::string& path) {
  return {{":method", method}, {":scheme", "http"}, {":authority", "svc.test"}, {":path", path}};
}

std::vector<Frame> ParseFrames(std::string_view bytes) {
  static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  if (bytes.substr(0, kPreface.size()) == kPreface) bytes.remove_prefix(kPreface.size());
  std::vector<Frame> frames;
  auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
  while (bytes.size() >= 9) {
    const std::uint32_t length = (byte(0) << 16) | (byte(1) << 8) | byte(2);
    if (bytes.size() < 9 + length) break;
    Frame f{};
    f.type = static_cast<std::uint8_t>(byte(3));
    f.flags = static_cast<std::uint8_t>(byte(4));
    f.stream_id = ((byte(5) << 24) | (byte(6) << 16) | (byte(7) << 8) | byte(8)) & 0x7fffffff;
    auto word = [&](std::size_t at) { return (byte(at) << 24) | (byte(at + 1) << 16) | (byte(at + 2) << 8) | byte(at + 3); };
    if (f.type == 0x3 && length >= 4) f.error_code = word(9);       // RST_STREAM: the error code
    if (f.type == 0x7 && length >= 8) f.error_code = word(9 + 4);   // GOAWAY: after the last stream id
    frames.push_back(f);
    bytes.remove_prefix(9 + length);
  }
  return frames;
}

}  // namespace cmesh::http2::testing
