// The load generator's response framing: where a response ends decides which request a latency
// belongs to, so a wrong length would silently shift every figure after it.
#include "response_reader.h"

#include <gtest/gtest.h>

namespace cmesh::bench {
namespace {

using Result = ResponseReader::Result;

TEST(ResponseReaderTest, ContentLengthArrivingInPieces) {
  const std::string whole = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  ResponseReader reader;
  std::size_t length = 0;
  std::string in;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    in += whole[i];
    const Result r = reader.Parse(in, &length);
    if (i + 1 < whole.size()) {
      ASSERT_EQ(r, Result::kNeedMore) << "after " << i + 1 << " bytes";
    } else {
      ASSERT_EQ(r, Result::kComplete);
    }
  }
  EXPECT_EQ(length, whole.size());
  EXPECT_EQ(reader.status(), 200);
  EXPECT_TRUE(reader.keep_alive());
}

TEST(ResponseReaderTest, LengthStopsAtTheEndOfTheFirstResponse) {
  // The head, then exactly 2 bytes of body; the next response's bytes are not part of it.
  const std::string first = "HTTP/1.1 503 Service Unavailable\r\ncontent-length:  2 \r\n\r\nno";
  ResponseReader reader;
  std::size_t length = 0;
  ASSERT_EQ(reader.Parse(first + "HTTP/1.1 200 OK\r\n", &length), Result::kComplete);
  EXPECT_EQ(length, first.size());
  EXPECT_EQ(reader.status(), 503);
}

TEST(ResponseReaderTest, ChunkedWithExtensionsAndTrailers) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunks = "4;name=value\r\nwiki\r\nA\r\n0123456789\r\n0\r\n";
  ResponseReader reader;
  std::size_t length = 0;
  std::string in = head + chunks;
  ASSERT_EQ(reader.Parse(in, &length), Result::kNeedMore);  // the final empty line is missing
  in += "X-Trailer: 1\r\n";
  ASSERT_EQ(reader.Parse(in, &length), Result::kNeedMore);
  in += "\r\n";
  ASSERT_EQ(reader.Parse(in, &length), Result::kComplete);
  EXPECT_EQ(length, in.size());
}

TEST(ResponseReaderTest, ChunkedWithoutTrailers) {
  const std::string in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1";
  ResponseReader reader;
  std::size_t length = 0;
  ASSERT_EQ(reader.Parse(in, &length), Result::kComplete);
  EXPECT_EQ(length, in.size() - 8);
}

TEST(ResponseReaderTest, ChunkDataSplitInTheMiddle) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  ResponseReader reader;
  std::size_t length = 0;
  std::string in = head + "6\r\nabc";
  ASSERT_EQ(reader.Parse(in, &length), Result::kNeedMore);
  in += "def\r\n";
  ASSERT_EQ(reader.Parse(in, &length), Result::kNeedMore);
  in += "0\r\n\r\n";
  ASSERT_EQ(reader.Parse(in, &length), Result::kComplete);
  EXPECT_EQ(length, in.size());
}

TEST(ResponseReaderTest, ConnectionCloseAndHttp10) {
  ResponseReader reader;
  std::size_t length = 0;
  ASSERT_EQ(reader.Parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", &length),
            Result::kComplete);
  EXPECT_FALSE(reader.keep_alive());
  reader.Reset();
  ASSERT_EQ(reader.Parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", &length), Result::kComplete);
  EXPECT_FALSE(reader.keep_alive());
  reader.Reset();
  ASSERT_EQ(reader.Parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", &length),
            Result::kComplete);
  EXPECT_TRUE(reader.keep_alive());
}

TEST(ResponseReaderTest, NoBodyStatusesIgnoreFraming) {
  ResponseReader reader;
  std::size_t length = 0;
  const std::string in = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n";
  ASSERT_EQ(reader.Parse(in, &length), Result::kComplete);
  EXPECT_EQ(length, in.size());
  EXPECT_EQ(reader.status(), 304);
}

TEST(ResponseReaderTest, Malformed) {
  std::size_t length = 0;
  for (const std::string in : {
           "HTTP/2 200 OK\r\n\r\n",                                               // not HTTP/1.x
           "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",                        // bad status
           "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",                       // bad length
           "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",                                 // bad field line
           "HTTP/1.1 200 OK\r\n\r\n",                                             // body until close
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",         // bad chunk size
       }) {
    ResponseReader reader;
    EXPECT_EQ(reader.Parse(in, &length), Result::kError) << in;
  }
}

}  // namespace
}  // namespace cmesh::bench
