// libFuzzer target: the HTTP/2 sessions (proxy/http2) on arbitrary bytes. The first byte picks
// the side (server or client), whether the client preface is prepended for the server, and the
// size of the pieces the rest is fed in; the callbacks answer, stream, reset and consume like the
// proxy does, so the send paths (data sources, trailers, resets) run too. Invariants checked: a
// failed session stays failed with a reason, never accepts more input, and ends up Done once
// its output is taken.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cmesh/http2/client_session.h"
#include "cmesh/http2/server_session.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

using cmesh::http2::HeaderList;

class Server : public cmesh::http2::ServerCallbacks {
 public:
  cmesh::http2::ServerSession* session = nullptr;
  void OnRequestHeaders(std::int32_t id, HeaderList headers, bool end_stream) override {
    Check(!headers.empty());
    switch (id % 4) {
      case 1:  // a body and trailers, like a gRPC answer
        session->SubmitResponse(id, {{":status", "200"}, {"content-type", "application/grpc"}}, false);
        session->SubmitData(id, std::string(100, 'r'), false);
        session->SubmitTrailers(id, {{"grpc-status", "0"}});
        break;
      case 3:
        if (end_stream) {
          session->SubmitResponse(id, {{":status", "204"}}, true);
        } else {
          session->ResetStream(id, cmesh::http2::kCancel);
        }
        break;
      default:
        break;
    }
  }
  void OnData(std::int32_t id, std::string_view data, bool) override {
    if (id % 8 != 7) session->Consume(id, data.size());  // some streams are never consumed
  }
  void OnTrailers(std::int32_t, HeaderList) override {}
  void OnStreamClosed(std::int32_t id, std::uint32_t) override { Check(!session->HasStream(id)); }
  void OnGoaway(std::int32_t, std::uint32_t) override {}
};

class Client : public cmesh::http2::ClientCallbacks {
 public:
  cmesh::http2::ClientSession* session = nullptr;
  void OnResponseHeaders(std::int32_t id, HeaderList, bool) override {}
  void OnInformationalHeaders(std::int32_t, HeaderList) override {}
  void OnData(std::int32_t id, std::string_view data, bool) override { session->Consume(id, data.size()); }
  void OnTrailers(std::int32_t, HeaderList) override {}
  void OnStreamClosed(std::int32_t id, std::uint32_t) override { Check(!session->HasStream(id)); }
  void OnGoaway(std::int32_t, std::uint32_t) override {}
};

void Feed(cmesh::http2::Session& session, std::string_view input, std::size_t step) {
  for (std::size_t at = 0; at < input.size(); at += step) {
    const bool ok = session.Receive(input.substr(at, step));
    Check(ok == !session.failed());
    if (!ok) {
      Check(!session.error().empty());
      Check(!session.Receive("x"));
      break;
    }
    session.TakeOutput();
  }
  session.TakeOutput();
  if (session.failed()) Check(session.Done());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = bytes[0];
  const std::string_view input(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const std::size_t step = (mode >> 2) == 0 ? input.size() + 1 : (mode >> 2) * 7;
  cmesh::http2::Settings settings;
  settings.max_concurrent_streams = 8;
  settings.max_header_list_size = 4096;
  settings.initial_stream_window = 65535;
  if (mode & 1) {
    Client callbacks;
    cmesh::http2::ClientSession client(settings, &callbacks);
    callbacks.session = &client;
    const std::int32_t id = client.SubmitRequest(
        {{":method", "POST"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/svc/M"}}, false);
    Check(id == 1);
    client.SubmitData(id, std::string(70000, 'q'), false);  // beyond the initial window
    client.SubmitTrailers(id, {{"x-end", "1"}});
    client.SubmitRequest({{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/"}}, true);
    client.TakeOutput();
    Feed(client, input, step);
  } else {
    Server callbacks;
    cmesh::http2::ServerSession server(settings, &callbacks);
    callbacks.session = &server;
    server.TakeOutput();
    std::string data;
    if (mode & 2) data = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    data.append(input);
    Feed(server, data, step);
  }
  return 0;
}
