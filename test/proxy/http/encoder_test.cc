#include "cmesh/http1/encoder.h"

#include <gtest/gtest.h>

#include "cmesh/http1/chunked.h"
#include "cmesh/http1/parser.h"

namespace cmesh::http1 {
namespace {

TEST(EncoderTest, RequestHeadRoundTripsThroughTheParser) {
  std::string out;
  AppendRequestHead(&out, "POST", "/reviews/1", {{"Host", "reviews:9080"}, {"x-request-id", "abc"}},
                    BodyFraming::kContentLength, 42);
  EXPECT_EQ(out, "POST /reviews/1 HTTP/1.1\r\nHost: reviews:9080\r\nx-request-id: abc\r\nContent-Length: 42\r\n\r\n");
  RequestHead head;
  std::size_t consumed = 0;
  ParseError error;
  ASSERT_EQ(ParseRequestHead(out, Limits{}, &head, &consumed, &error), ParseStatus::kComplete) << error.reason;
  EXPECT_EQ(head.content_length, 42u);
  EXPECT_EQ(consumed, out.size());
}

TEST(EncoderTest, ResponseHeadFramingAndConnection) {
  std::string chunked;
  AppendResponseHead(&chunked, 200, "", {{"x-a", "1"}}, BodyFraming::kChunked, 0, true);
  EXPECT_EQ(chunked, "HTTP/1.1 200 OK\r\nx-a: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string closing;
  AppendResponseHead(&closing, 503, "", {}, BodyFraming::kContentLength, 0, false);
  EXPECT_EQ(closing, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  std::string custom;
  AppendResponseHead(&custom, 299, "Custom", {}, BodyFraming::kNone, 0, true);
  EXPECT_EQ(custom, "HTTP/1.1 299 Custom\r\n\r\n");
}

TEST(EncoderTest, ChunksDecodeBackToTheData) {
  std::string body;
  AppendChunk(&body, "hello ");
  AppendChunk(&body, "");  // nothing: an empty chunk would end the body
  AppendChunk(&body, std::string(300, 'z'));
  AppendLastChunk(&body);
  EXPECT_EQ(body.substr(0, 11), "6\r\nhello \r\n");
  EXPECT_NE(body.find("12c\r\n"), std::string::npos);  // 300 = 0x12c
  ChunkedDecoder decoder;
  std::vector<std::string_view> data;
  EXPECT_EQ(decoder.Feed(body, &data), body.size());
  ASSERT_TRUE(decoder.done());
  std::string joined;
  for (auto d : data) joined.append(d);
  EXPECT_EQ(joined, "hello " + std::string(300, 'z'));
}

TEST(EncoderTest, HopByHopHeaders) {
  RequestHead head;
  head.headers = {{"Connection", "keep-alive, X-Private"}, {"X-Private", "1"}, {"X-Public", "2"}};
  for (const char* name : {"Connection", "keep-alive", "Proxy-Connection", "TE", "Transfer-Encoding", "Upgrade",
                           "Content-Length", "x-private"}) {
    EXPECT_TRUE(IsHopByHop(head, name)) << name;
  }
  EXPECT_FALSE(IsHopByHop(head, "X-Public"));
  EXPECT_FALSE(IsHopByHop(head, "Host"));
}

}  // namespace
}  // namespace cmesh::http1
