#include "cmesh/http1/chunked.h"

#include <gtest/gtest.h>

namespace cmesh::http1 {
namespace {

// Feeds `input` in pieces of `step` bytes; returns the body, or "ERROR: ..." on failure.
std::string Decode(std::string_view input, std::size_t step, std::size_t* consumed = nullptr) {
  ChunkedDecoder decoder;
  std::string body;
  std::size_t used = 0;
  for (std::size_t at = 0; at < input.size() && !decoder.done() && !decoder.failed(); at += step) {
    std::vector<std::string_view> pieces;
    const std::string_view piece = input.substr(at, step);
    used += decoder.Feed(piece, &pieces);
    for (auto p : pieces) body.append(p);
  }
  if (consumed) *consumed = used;
  if (decoder.failed()) return "ERROR: " + decoder.error();
  if (!decoder.done()) return "INCOMPLETE: " + body;
  return body;
}

TEST(ChunkedDecoderTest, DecodesWholeOrByteByByte) {
  const std::string input = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
  for (std::size_t step : {input.size(), std::size_t{1}, std::size_t{3}}) {
    EXPECT_EQ(Decode(input, step), "hello, world") << step;
  }
}

TEST(ChunkedDecoderTest, StopsAtTheEndOfTheBody) {
  const std::string input = "3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n";
  std::size_t consumed = 0;
  EXPECT_EQ(Decode(input, input.size(), &consumed), "abc");
  EXPECT_EQ(input.substr(consumed), "GET /next HTTP/1.1\r\n");
}

TEST(ChunkedDecoderTest, TrailersAreConsumed) {
  EXPECT_EQ(Decode("2\r\nok\r\n0\r\nX-Checksum: 1\r\nY: 2\r\n\r\n", 4), "ok");
}

TEST(ChunkedDecoderTest, HexSizesInEitherCase) {
  const std::string data(0x1a, 'z');
  EXPECT_EQ(Decode("1A\r\n" + data + "\r\n0\r\n\r\n", 5), data);
  EXPECT_EQ(Decode("1a\r\n" + data + "\r\n0\r\n\r\n", 5), data);
}

TEST(ChunkedDecoderTest, IncompleteIsNotDone) {
  EXPECT_EQ(Decode("5\r\nhel", 100), "INCOMPLETE: hel");
}

TEST(ChunkedDecoderTest, MalformedInputFails) {
  for (const char* bad : {
           "x\r\nhello\r\n0\r\n\r\n",          // not hex
           "\r\n",                             // no size
           "5\nhello\r\n0\r\n\r\n",            // bare LF after the size
           "5\r\nhelloX\r\n0\r\n\r\n",         // data longer than its size
           "5\r\nhello\n0\r\n\r\n",            // bare LF after the data
           "1000000000000000\r\n",             // 16 hex digits: an overflow attempt
           "0\r\nX: 1\n\r\n",                  // bare LF in a trailer
           "0\r\n\n",                          // bare LF at the end
           "5;a\nb\r\nhello\r\n0\r\n\r\n",     // LF inside an extension
           "-5\r\nhello\r\n0\r\n\r\n",         // negative
       }) {
    EXPECT_EQ(Decode(bad, 100).rfind("ERROR: ", 0), 0u) << bad << " → " << Decode(bad, 100);
  }
}

TEST(ChunkedDecoderTest, LongSizeLineAndTrailersAreBounded) {
  ChunkedDecoder decoder(/*max_line=*/16, /*max_trailer_bytes=*/16);
  std::vector<std::string_view> data;
  decoder.Feed("5;" + std::string(40, 'e'), &data);
  EXPECT_TRUE(decoder.failed());
  ChunkedDecoder trailers(16, 16);
  trailers.Feed("0\r\nX: " + std::string(40, 't') + "\r\n\r\n", &data);
  EXPECT_TRUE(trailers.failed());
}

}  // namespace
}  // namespace cmesh::http1
