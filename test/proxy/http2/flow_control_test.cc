// Flow control: received bytes hold the windows until the caller consumes them, so a body only
// flows as fast as the receiver forwards it; send buffers drain as the peer's windows allow.
#include <gtest/gtest.h>

#include "session_pair.h"

namespace cmesh::http2::testing {
namespace {

TEST(Http2FlowControlTest, LargeBodyFlowsOnlyAsTheReceiverConsumes) {
  Settings small;
  small.initial_stream_window = 65535;      // RFC 9113's initial value for both windows, so
  small.initial_connection_window = 65535;  // the first stall is exactly 65,535 bytes
  SessionPair pair(small, Settings{});
  pair.server_log.auto_consume = false;
  const std::size_t total = 1024 * 1024;
  const std::int32_t id = pair.client.SubmitRequest(Request("POST", "/big"), false);
  ASSERT_TRUE(pair.client.SubmitData(id, std::string(total, 'x'), true));
  ASSERT_TRUE(pair.Pump());

  EXPECT_EQ(pair.server_log.streams[id].body.size(), 65535u);
  EXPECT_EQ(pair.server.UnconsumedBytes(id), 65535u);
  EXPECT_EQ(pair.client.BufferedBytes(id), total - 65535);
  // Nothing more arrives however often the bytes are pumped while nobody consumes.
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.server_log.streams[id].body.size(), 65535u);

  int rounds = 0;
  while (pair.server_log.streams[id].body.size() < total && rounds < 1000) {
    const std::size_t before = pair.server_log.streams[id].body.size();
    pair.server.Consume(id, pair.server.UnconsumedBytes(id));
    ASSERT_TRUE(pair.Pump());
    const std::size_t after = pair.server_log.streams[id].body.size();
    ASSERT_GT(after, before) << "consuming must reopen the window";
    ASSERT_LE(pair.server.UnconsumedBytes(id), 65535u) << "never more than a window in flight";
    ++rounds;
  }
  EXPECT_EQ(pair.server_log.streams[id].body, std::string(total, 'x'));
  EXPECT_TRUE(pair.server_log.streams[id].end_stream);
  EXPECT_EQ(pair.client.BufferedBytes(id), 0u);
  // 1 MiB in windows of 65,535 bytes takes at least 16 reopenings.
  EXPECT_GE(rounds, 16);
}

TEST(Http2FlowControlTest, ResponseBodyWaitsForTheClient) {
  Settings small;
  small.initial_stream_window = 65535;
  small.initial_connection_window = 65535;
  SessionPair pair(Settings{}, small);
  pair.client_log.auto_consume = false;
  const std::int32_t id = pair.client.SubmitRequest(Request("GET", "/download"), true);
  ASSERT_TRUE(pair.Pump());
  ASSERT_TRUE(pair.server.SubmitResponse(id, {{":status", "200"}}, false));
  ASSERT_TRUE(pair.server.SubmitData(id, std::string(200000, 'y'), true));
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.client_log.streams[id].body.size(), 65535u);
  EXPECT_EQ(pair.server.BufferedBytes(id), 200000u - 65535u);
  while (pair.client.UnconsumedBytes(id) > 0) {
    pair.client.Consume(id, pair.client.UnconsumedBytes(id));
    ASSERT_TRUE(pair.Pump());
  }
  EXPECT_EQ(pair.client_log.streams[id].body.size(), 200000u);
  EXPECT_TRUE(pair.client_log.streams[id].closed);
}

TEST(Http2FlowControlTest, SendBufferDrainedIsSignalled) {
  SessionPair pair;
  const std::int32_t id = pair.client.SubmitRequest(Request("POST", "/stream"), false);
  ASSERT_TRUE(pair.client.SubmitData(id, std::string(100000, 'z'), false));
  EXPECT_EQ(pair.client.BufferedBytes(id), 100000u);
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.client.BufferedBytes(id), 0u);
  EXPECT_GE(pair.client_log.drained, 1);
  EXPECT_EQ(pair.server_log.streams[id].body.size(), 100000u);
}

TEST(Http2FlowControlTest, UnconsumedBytesOfAClosedStreamReturnToTheConnection) {
  Settings small;
  small.initial_stream_window = 65535;
  small.initial_connection_window = 65535;
  SessionPair pair(small, Settings{});
  pair.server_log.auto_consume = false;
  // Stream 1 fills the whole connection window and is then reset, unconsumed.
  const std::int32_t first = pair.client.SubmitRequest(Request("POST", "/a"), false);
  ASSERT_TRUE(pair.client.SubmitData(first, std::string(65535, 'a'), false));
  ASSERT_TRUE(pair.Pump());
  ASSERT_EQ(pair.server.UnconsumedBytes(first), 65535u);
  ASSERT_TRUE(pair.server.ResetStream(first, kCancel));
  ASSERT_TRUE(pair.Pump());
  // Without giving those bytes back, stream 3 could never send a byte.
  const std::int32_t second = pair.client.SubmitRequest(Request("POST", "/b"), false);
  ASSERT_TRUE(pair.client.SubmitData(second, "still flows", true));
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.server_log.streams[second].body, "still flows");
}

}  // namespace
}  // namespace cmesh::http2::testing
