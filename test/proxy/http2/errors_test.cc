// Malformed input and limits: errors are reported with a GOAWAY or RST_STREAM, never a crash.
#include <gtest/gtest.h>

#include <cstdint>

#include "session_pair.h"

namespace cmesh::http2::testing {
namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::string RawFrame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>((payload.size() >> 16) & 0xff));
  f.push_back(static_cast<char>((payload.size() >> 8) & 0xff));
  f.push_back(static_cast<char>(payload.size() & 0xff));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>((stream_id >> shift) & 0xff));
  f.append(payload);
  return f;
}

const Frame* FindGoaway(const std::vector<Frame>& frames) {
  for (const Frame& f : frames) {
    if (f.type == 0x7) return &f;
  }
  return nullptr;
}

class NullServer : public ServerCallbacks {
 public:
  void OnRequestHeaders(std::int32_t, HeaderList, bool) override { ++requests; }
  void OnData(std::int32_t, std::string_view, bool) override {}
  void OnTrailers(std::int32_t, HeaderList) override {}
  void OnStreamClosed(std::int32_t, std::uint32_t) override {}
  void OnGoaway(std::int32_t, std::uint32_t) override {}
  int requests = 0;
};

class NullClient : public ClientCallbacks {
 public:
  void OnResponseHeaders(std::int32_t, HeaderList, bool) override {}
  void OnData(std::int32_t, std::string_view, bool) override {}
  void OnTrailers(std::int32_t, HeaderList) override {}
  void OnStreamClosed(std::int32_t, std::uint32_t) override {}
  void OnGoaway(std::int32_t, std::uint32_t) override {}
};

TEST(Http2ErrorsTest, Http1RequestInsteadOfThePrefaceFails) {
  NullServer callbacks;
  ServerSession server(Settings{}, &callbacks);
  EXPECT_FALSE(server.Receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(server.failed());
  EXPECT_FALSE(server.error().empty());
  const Frame* goaway = FindGoaway(ParseFrames(server.TakeOutput()));
  ASSERT_NE(goaway, nullptr);
  EXPECT_EQ(goaway->error_code, kProtocolError);
  EXPECT_FALSE(server.Receive(kPreface));  // a failed session stays failed
  EXPECT_TRUE(server.Done());
}

TEST(Http2ErrorsTest, DataOnStreamZeroIsAConnectionError) {
  NullServer callbacks;
  ServerSession server(Settings{}, &callbacks);
  std::string bytes(kPreface);
  bytes += RawFrame(0x4, 0, 0, "");  // empty SETTINGS
  bytes += RawFrame(0x0, 0, 0, "oops");
  EXPECT_FALSE(server.Receive(bytes));
  EXPECT_NE(server.error().find("PROTOCOL_ERROR"), std::string::npos) << server.error();
  const Frame* goaway = FindGoaway(ParseFrames(server.TakeOutput()));
  ASSERT_NE(goaway, nullptr);
  EXPECT_EQ(goaway->error_code, kProtocolError);
}

TEST(Http2ErrorsTest, UndecodableHeaderBlockIsACompressionError) {
  NullServer callbacks;
  ServerSession server(Settings{}, &callbacks);
  std::string bytes(kPreface);
  bytes += RawFrame(0x4, 0, 0, "");
  // 0xff... is an indexed field with an index far beyond both tables.
  bytes += RawFrame(0x1, 0x4 | 0x1, 1, std::string("\xff\xff\xff\xff\x0f", 5));
  EXPECT_FALSE(server.Receive(bytes));
  const Frame* goaway = FindGoaway(ParseFrames(server.TakeOutput()));
  ASSERT_NE(goaway, nullptr);
  EXPECT_EQ(goaway->error_code, kCompressionError);
  EXPECT_EQ(callbacks.requests, 0);
}

TEST(Http2ErrorsTest, ClientFailsOnGarbageFromTheServer) {
  NullClient callbacks;
  ClientSession client(Settings{}, &callbacks);
  client.TakeOutput();
  EXPECT_FALSE(client.Receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_FALSE(client.error().empty());
  const Frame* goaway = FindGoaway(ParseFrames(client.TakeOutput()));
  ASSERT_NE(goaway, nullptr);
  EXPECT_NE(goaway->error_code, kNoError);
  EXPECT_EQ(client.SubmitRequest(Request("GET", "/"), true), -1);
}

TEST(Http2ErrorsTest, ArbitraryBytesNeverCrash) {
  // A fixed linear congruential sequence: the same inputs every run.
  std::uint32_t state = 12345;
  auto next = [&]() {
    state = state * 1103515245u + 12345u;
    return static_cast<char>((state >> 16) & 0xff);
  };
  for (int round = 0; round < 200; ++round) {
    NullServer server_callbacks;
    ServerSession server(Settings{}, &server_callbacks);
    NullClient client_callbacks;
    ClientSession client(Settings{}, &client_callbacks);
    std::string junk;
    for (int i = 0; i < 64 + round * 7; ++i) junk.push_back(next());
    server.Receive(std::string(kPreface) + junk);
    client.Receive(junk);
    server.TakeOutput();
    client.TakeOutput();
  }
}

TEST(Http2ErrorsTest, StreamsBeyondTheServerLimitAreRefused) {
  Settings server_settings;
  server_settings.max_concurrent_streams = 2;
  SessionPair pair(server_settings, Settings{});
  // The client has not seen the server's SETTINGS yet, so it opens three streams at once.
  const std::int32_t a = pair.client.SubmitRequest(Request("GET", "/1"), true);
  const std::int32_t b = pair.client.SubmitRequest(Request("GET", "/2"), true);
  const std::int32_t c = pair.client.SubmitRequest(Request("GET", "/3"), true);
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.server_log.opened, (std::vector<std::int32_t>{a, b}));
  EXPECT_TRUE(pair.client_log.streams[c].closed);
  EXPECT_EQ(pair.client_log.streams[c].close_code, kRefusedStream);
  // Now the client knows the limit and refuses a third stream itself.
  EXPECT_EQ(pair.client.PeerMaxConcurrentStreams(), 2u);
  EXPECT_FALSE(pair.client.CanSubmitRequest());
  EXPECT_EQ(pair.client.SubmitRequest(Request("GET", "/4"), true), -1);
  ASSERT_TRUE(pair.server.SubmitResponse(a, {{":status", "200"}}, true));
  ASSERT_TRUE(pair.Pump());
  EXPECT_TRUE(pair.client.CanSubmitRequest());
}

TEST(Http2ErrorsTest, OversizedHeaderListResetsOnlyThatStream) {
  Settings server_settings;
  server_settings.max_header_list_size = 1024;
  SessionPair pair(server_settings, Settings{});
  ASSERT_TRUE(pair.Pump());  // the client learns nothing it would enforce itself
  HeaderList big = Request("GET", "/big");
  big.emplace_back("x-big", std::string(2000, 'v'));
  const std::int32_t bad = pair.client.SubmitRequest(big, true);
  ASSERT_TRUE(pair.Pump());
  EXPECT_TRUE(pair.server_log.opened.empty());
  EXPECT_TRUE(pair.client_log.streams[bad].closed);
  EXPECT_NE(pair.client_log.streams[bad].close_code, kNoError);
  // The connection is still good.
  const std::int32_t good = pair.client.SubmitRequest(Request("GET", "/small"), true);
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.server_log.opened, (std::vector<std::int32_t>{good}));
}

}  // namespace
}  // namespace cmesh::http2::testing
