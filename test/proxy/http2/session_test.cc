// Request/response exchanges between a ClientSession and a ServerSession in memory.
#include <gtest/gtest.h>

#include "session_pair.h"

namespace cmesh::http2::testing {
namespace {

TEST(Http2SessionTest, RequestAndResponseWithBodies) {
  SessionPair pair;
  HeaderList request = Request("POST", "/upload");
  request.emplace_back("content-type", "text/plain");
  const std::int32_t id = pair.client.SubmitRequest(request, /*end_stream=*/false);
  ASSERT_EQ(id, 1);  // a client's first stream is 1 (RFC 9113 §5.1.1)
  ASSERT_TRUE(pair.client.SubmitData(id, "hello ", false));
  ASSERT_TRUE(pair.client.SubmitData(id, "world", true));
  ASSERT_TRUE(pair.Pump());

  const StreamLog& at_server = pair.server_log.streams[id];
  EXPECT_EQ(FindHeader(at_server.headers, ":method"), "POST");
  EXPECT_EQ(FindHeader(at_server.headers, ":path"), "/upload");
  EXPECT_EQ(FindHeader(at_server.headers, ":authority"), "svc.test");
  EXPECT_EQ(FindHeader(at_server.headers, "content-type"), "text/plain");
  EXPECT_EQ(at_server.body, "hello world");
  EXPECT_TRUE(at_server.end_stream);
  EXPECT_FALSE(at_server.closed);  // the response side is still open

  ASSERT_TRUE(pair.server.SubmitResponse(id, {{":status", "201"}, {"x-answer", "yes"}}, false));
  ASSERT_TRUE(pair.server.SubmitData(id, "created", true));
  ASSERT_TRUE(pair.Pump());

  const StreamLog& at_client = pair.client_log.streams[id];
  EXPECT_EQ(FindHeader(at_client.headers, ":status"), "201");
  EXPECT_EQ(FindHeader(at_client.headers, "x-answer"), "yes");
  EXPECT_EQ(at_client.body, "created");
  EXPECT_TRUE(at_client.end_stream);
  EXPECT_TRUE(at_client.closed);
  EXPECT_EQ(at_client.close_code, kNoError);
  EXPECT_TRUE(pair.server_log.streams[id].closed);
  EXPECT_EQ(pair.server_log.streams[id].close_code, kNoError);
  EXPECT_EQ(pair.client.ActiveStreams(), 0u);
  EXPECT_EQ(pair.server.ActiveStreams(), 0u);
}

TEST(Http2SessionTest, GrpcStyleHeadersDataTrailers) {
  SessionPair pair;
  HeaderList request = Request("POST", "/helloworld.Greeter/SayHello");
  request.emplace_back("content-type", "application/grpc");
  request.emplace_back("te", "trailers");
  const std::int32_t id = pair.client.SubmitRequest(request, false);
  const std::string message("\0\0\0\0\3abc", 8);  // gRPC length-prefixed message
  ASSERT_TRUE(pair.client.SubmitData(id, message, true));
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.server_log.streams[id].body, message);
  EXPECT_EQ(FindHeader(pair.server_log.streams[id].headers, "te"), "trailers");

  ASSERT_TRUE(pair.server.SubmitResponse(id, {{":status", "200"}, {"content-type", "application/grpc"}}, false));
  ASSERT_TRUE(pair.server.SubmitData(id, message, false));
  ASSERT_TRUE(pair.server.SubmitTrailers(id, {{"grpc-status", "0"}, {"grpc-message", "ok"}}));
  ASSERT_TRUE(pair.Pump());

  const StreamLog& at_client = pair.client_log.streams[id];
  ASSERT_TRUE(at_client.has_trailers);
  EXPECT_EQ(FindHeader(at_client.trailers, "grpc-status"), "0");
  EXPECT_EQ(FindHeader(at_client.trailers, "grpc-message"), "ok");
  EXPECT_EQ(at_client.body, message);
  // Headers, then the message, then the trailers (which end the stream), then the close.
  const std::vector<std::string> expected = {"headers", "data:" + message, "trailers", "closed"};
  EXPECT_EQ(at_client.events, expected);
  EXPECT_EQ(at_client.close_code, kNoError);
}

TEST(Http2SessionTest, ClientTrailersReachTheServer) {
  SessionPair pair;
  const std::int32_t id = pair.client.SubmitRequest(Request("POST", "/t"), false);
  ASSERT_TRUE(pair.client.SubmitData(id, "body", false));
  ASSERT_TRUE(pair.client.SubmitTrailers(id, {{"x-checksum", "42"}}));
  EXPECT_FALSE(pair.client.SubmitData(id, "late", false));  // the side is ended
  ASSERT_TRUE(pair.Pump());
  const StreamLog& at_server = pair.server_log.streams[id];
  EXPECT_EQ(at_server.body, "body");
  ASSERT_TRUE(at_server.has_trailers);
  EXPECT_EQ(FindHeader(at_server.trailers, "x-checksum"), "42");
}

TEST(Http2SessionTest, TrailersOnlyResponse) {
  SessionPair pair;
  const std::int32_t id = pair.client.SubmitRequest(Request("POST", "/svc/Method"), true);
  ASSERT_TRUE(pair.Pump());
  ASSERT_TRUE(pair.server.SubmitResponse(
      id, {{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-status", "14"}}, true));
  ASSERT_TRUE(pair.Pump());
  const StreamLog& at_client = pair.client_log.streams[id];
  EXPECT_EQ(FindHeader(at_client.headers, "grpc-status"), "14");
  EXPECT_TRUE(at_client.end_stream);
  EXPECT_FALSE(at_client.has_trailers);
  EXPECT_TRUE(at_client.closed);
}

TEST(Http2SessionTest, BidirectionalStreamingInterleaves) {
  SessionPair pair;
  const std::int32_t id = pair.client.SubmitRequest(Request("POST", "/chat"), false);
  ASSERT_TRUE(pair.Pump());
  ASSERT_TRUE(pair.server.SubmitResponse(id, {{":status", "200"}}, false));
  for (int i = 0; i < 3; ++i) {
    const std::string ping = "ping" + std::to_string(i);
    ASSERT_TRUE(pair.client.SubmitData(id, ping, false));
    ASSERT_TRUE(pair.Pump());
    // The server has this message before the client sent the next one.
    ASSERT_EQ(pair.server_log.streams[id].chunks.back(), ping);
    ASSERT_TRUE(pair.server.SubmitData(id, "pong" + std::to_string(i), false));
    ASSERT_TRUE(pair.Pump());
    ASSERT_EQ(pair.client_log.streams[id].chunks.back(), "pong" + std::to_string(i));
  }
  ASSERT_TRUE(pair.client.SubmitData(id, "", true));
  ASSERT_TRUE(pair.server.SubmitTrailers(id, {{"grpc-status", "0"}}));
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.server_log.streams[id].body, "ping0ping1ping2");
  EXPECT_EQ(pair.client_log.streams[id].body, "pong0pong1pong2");
  EXPECT_TRUE(pair.server_log.streams[id].closed);
  EXPECT_TRUE(pair.client_log.streams[id].closed);
}

TEST(Http2SessionTest, ManyConcurrentStreamsStayApart) {
  SessionPair pair;
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(pair.client.SubmitRequest(Request("POST", "/s" + std::to_string(i)), false));
    ASSERT_GT(ids.back(), 0);
  }
  for (int i = 4; i >= 0; --i) ASSERT_TRUE(pair.client.SubmitData(ids[i], "body" + std::to_string(i), true));
  ASSERT_TRUE(pair.Pump());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(pair.server_log.streams[ids[i]].body, "body" + std::to_string(i));
    EXPECT_EQ(FindHeader(pair.server_log.streams[ids[i]].headers, ":path"), "/s" + std::to_string(i));
    ASSERT_TRUE(pair.server.SubmitResponse(ids[i], {{":status", "200"}}, false));
    ASSERT_TRUE(pair.server.SubmitData(ids[i], "answer" + std::to_string(i), true));
  }
  ASSERT_TRUE(pair.Pump());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(pair.client_log.streams[ids[i]].body, "answer" + std::to_string(i));
}

TEST(Http2SessionTest, InformationalThenFinalResponse) {
  SessionPair pair;
  HeaderList request = Request("POST", "/big");
  request.emplace_back("expect", "100-continue");
  const std::int32_t id = pair.client.SubmitRequest(request, false);
  ASSERT_TRUE(pair.Pump());
  ASSERT_TRUE(pair.server.SubmitInformational(id, {{":status", "100"}}));
  ASSERT_TRUE(pair.Pump());
  ASSERT_EQ(pair.client_log.streams[id].informational.size(), 1u);
  EXPECT_EQ(FindHeader(pair.client_log.streams[id].informational[0], ":status"), "100");
  EXPECT_TRUE(pair.client_log.streams[id].headers.empty());  // not the final response yet
  ASSERT_TRUE(pair.client.SubmitData(id, "payload", true));
  ASSERT_TRUE(pair.server.SubmitResponse(id, {{":status", "200"}}, true));
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(FindHeader(pair.client_log.streams[id].headers, ":status"), "200");
  EXPECT_FALSE(pair.client_log.streams[id].has_trailers);
}

TEST(Http2SessionTest, ServerResetReachesClient) {
  SessionPair pair;
  const std::int32_t id = pair.client.SubmitRequest(Request("POST", "/x"), false);
  ASSERT_TRUE(pair.Pump());
  ASSERT_TRUE(pair.server.ResetStream(id, kCancel));
  ASSERT_TRUE(pair.Pump());
  EXPECT_TRUE(pair.client_log.streams[id].closed);
  EXPECT_EQ(pair.client_log.streams[id].close_code, kCancel);
  EXPECT_TRUE(pair.server_log.streams[id].closed);
  EXPECT_EQ(pair.server_log.streams[id].close_code, kCancel);
  EXPECT_FALSE(pair.client.SubmitData(id, "more", true));  // the stream is gone
}

TEST(Http2SessionTest, ClientResetReachesServer) {
  SessionPair pair;
  const std::int32_t id = pair.client.SubmitRequest(Request("POST", "/x"), false);
  ASSERT_TRUE(pair.client.SubmitData(id, "partial", false));
  ASSERT_TRUE(pair.Pump());
  ASSERT_TRUE(pair.client.ResetStream(id, kCancel));
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.server_log.streams[id].body, "partial");
  EXPECT_TRUE(pair.server_log.streams[id].closed);
  EXPECT_EQ(pair.server_log.streams[id].close_code, kCancel);
  EXPECT_FALSE(pair.server.SubmitResponse(id, {{":status", "200"}}, true));
}

TEST(Http2SessionTest, GoawayRefusesLaterStreamsAndLetsEarlierOnesFinish) {
  SessionPair pair;
  const std::int32_t first = pair.client.SubmitRequest(Request("GET", "/a"), true);
  ASSERT_TRUE(pair.Pump());
  pair.server.Goaway();
  const std::string goaway = pair.server.TakeOutput();
  // A request the client sends before it sees the GOAWAY crosses it on the wire.
  const std::int32_t second = pair.client.SubmitRequest(Request("GET", "/b"), true);
  ASSERT_EQ(second, 3);
  ASSERT_TRUE(pair.server.Receive(pair.client.TakeOutput()));
  ASSERT_TRUE(pair.client.Receive(goaway));
  EXPECT_TRUE(pair.client_log.goaway);
  EXPECT_EQ(pair.client_log.goaway_last_stream, first);
  EXPECT_EQ(pair.client_log.goaway_code, kNoError);
  // Stream 3 was never processed: refused, so a caller may retry it elsewhere.
  EXPECT_TRUE(pair.client_log.streams[second].closed);
  EXPECT_EQ(pair.client_log.streams[second].close_code, kRefusedStream);
  EXPECT_EQ(pair.server_log.streams.count(second), 0u);
  EXPECT_FALSE(pair.client.CanSubmitRequest());
  EXPECT_EQ(pair.client.SubmitRequest(Request("GET", "/c"), true), -1);
  // The first stream still completes.
  ASSERT_TRUE(pair.server.SubmitResponse(first, {{":status", "200"}}, false));
  ASSERT_TRUE(pair.server.SubmitData(first, "last", true));
  ASSERT_TRUE(pair.Pump());
  EXPECT_EQ(pair.client_log.streams[first].body, "last");
  EXPECT_EQ(pair.client_log.streams[first].close_code, kNoError);
  EXPECT_TRUE(pair.server.Done());
  EXPECT_TRUE(pair.client.Done());
}

}  // namespace
}  // namespace cmesh::http2::testing
