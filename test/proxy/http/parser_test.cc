// The request and response head parser against RFC 9110/9112, with the smuggling cases the
// proxy must refuse (each a known desync technique between a proxy and its upstream).
#include "cmesh/http1/parser.h"

#include <cctype>
#include <string>

#include <gtest/gtest.h>

namespace cmesh::http1 {
namespace {

struct Parsed {
  ParseStatus status;
  RequestHead head;
  std::size_t consumed = 0;
  ParseError error;
};

Parsed Request(std::string_view data, Limits limits = {}) {
  Parsed p;
  p.status = ParseRequestHead(data, limits, &p.head, &p.consumed, &p.error);
  return p;
}

struct ParsedResponse {
  ParseStatus status;
  ResponseHead head;
  std::size_t consumed = 0;
  ParseError error;
};

ParsedResponse Response(std::string_view data, std::string_view method = "GET") {
  ParsedResponse p;
  p.status = ParseResponseHead(data, Limits{}, method, &p.head, &p.consumed, &p.error);
  return p;
}

TEST(RequestHeadTest, SimpleGetWithKeepAliveByDefault) {
  const std::string data = "GET /ratings/1?x=1 HTTP/1.1\r\nHost: ratings:9080\r\nUser-Agent: t\r\n\r\nNEXT";
  auto p = Request(data);
  ASSERT_EQ(p.status, ParseStatus::kComplete) << p.error.reason;
  EXPECT_EQ(p.head.method, "GET");
  EXPECT_EQ(p.head.target, "/ratings/1?x=1");
  EXPECT_EQ(p.head.version_minor, 1);
  ASSERT_EQ(p.head.headers.size(), 2u);
  EXPECT_EQ(p.head.headers[0].name, "Host");
  EXPECT_EQ(p.head.headers[0].value, "ratings:9080");
  EXPECT_EQ(p.head.Find("HOST"), "ratings:9080");  // names match case-insensitively
  EXPECT_EQ(p.head.framing, BodyFraming::kNone);
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_EQ(p.consumed, data.size() - 4);  // the head ends before "NEXT" (a pipelined request)
}

TEST(RequestHeadTest, IncompleteUntilTheEmptyLine) {
  const std::string data = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (std::size_t n = 0; n < data.size(); ++n) {
    auto p = Request(std::string_view(data).substr(0, n));
    EXPECT_EQ(p.status, ParseStatus::kIncomplete) << n;
  }
  EXPECT_EQ(Request(data).status, ParseStatus::kComplete);
}

TEST(RequestHeadTest, LeadingEmptyLinesAreIgnored) {
  auto p = Request("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete) << p.error.reason;
  EXPECT_EQ(p.head.method, "GET");
}

TEST(RequestHeadTest, ValuesAreTrimmedOfOptionalWhitespace) {
  auto p = Request("GET / HTTP/1.1\r\nHost:\t a \t\r\nX-Empty:\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete) << p.error.reason;
  EXPECT_EQ(p.head.Find("host"), "a");
  EXPECT_EQ(p.head.Find("x-empty"), "");
}

TEST(RequestHeadTest, Http10IsCloseByDefaultAndKeepAliveOnRequest) {
  auto p = Request("GET / HTTP/1.0\r\n\r\n");  // 1.0 needs no Host
  ASSERT_EQ(p.status, ParseStatus::kComplete) << p.error.reason;
  EXPECT_EQ(p.head.version_minor, 0);
  EXPECT_FALSE(p.head.keep_alive);
  auto k = Request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_EQ(k.status, ParseStatus::kComplete);
  EXPECT_TRUE(k.head.keep_alive);
  auto c = Request("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n");
  ASSERT_EQ(c.status, ParseStatus::kComplete);
  EXPECT_FALSE(c.head.keep_alive);
}

TEST(RequestHeadTest, BodyFramingFromContentLengthOrChunked) {
  auto cl = Request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n");
  ASSERT_EQ(cl.status, ParseStatus::kComplete);
  EXPECT_EQ(cl.head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(cl.head.content_length, 12u);
  auto zero = Request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(zero.head.framing, BodyFraming::kNone);
  // Repeated identical lengths are one length (RFC 9110 section 8.6).
  auto same = Request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n");
  ASSERT_EQ(same.status, ParseStatus::kComplete) << same.error.reason;
  EXPECT_EQ(same.head.content_length, 5u);
  auto chunked = Request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_EQ(chunked.status, ParseStatus::kComplete);
  EXPECT_EQ(chunked.head.framing, BodyFraming::kChunked);
}

TEST(RequestHeadTest, ExpectContinue) {
  auto p = Request("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_TRUE(p.head.expect_continue);
  auto other = Request("PUT / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n");
  EXPECT_EQ(other.status, ParseStatus::kError);
  EXPECT_EQ(other.error.status, 417);
}

struct Refused {
  const char* what;
  const char* data;
  int status;
};

class RefusedRequestTest : public ::testing::TestWithParam<Refused> {};

TEST_P(RefusedRequestTest, IsAnErrorWithItsStatus) {
  auto p = Request(GetParam().data);
  ASSERT_EQ(p.status, ParseStatus::kError) << GetParam().what;
  EXPECT_EQ(p.error.status, GetParam().status) << GetParam().what << ": " << p.error.reason;
  EXPECT_FALSE(p.error.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, RefusedRequestTest,
    ::testing::Values(
        // CL.TE / TE.CL desync: both framings present.
        Refused{"te and cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        Refused{"differing lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 400},
        Refused{"length list differing", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 5\r\n\r\n", 400},
        Refused{"signed length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n", 400},
        Refused{"hex length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x4\r\n\r\n", 400},
        Refused{"huge length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
        Refused{"empty length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400},
        // chunked must be the final coding, once.
        Refused{"chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400},
        Refused{"chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        Refused{"obfuscated coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400},
        Refused{"other coding under chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        Refused{"te in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        // Whitespace tricks that make two parsers disagree on the field name.
        Refused{"space before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400},
        Refused{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n", 400},
        // Line endings.
        Refused{"bare LF ends a header", "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n", 400},
        Refused{"bare LF ends the head", "GET / HTTP/1.1\nHost: a\n\n", 400},
        Refused{"bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r2\r\n\r\n", 400},
        // Request line and Host.
        Refused{"no host in 1.1", "GET / HTTP/1.1\r\nX: 1\r\n\r\n", 400},
        Refused{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        Refused{"double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"not http", "GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"http 2 by upgrade text", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        Refused{"header without colon", "GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", 400}),
    [](const ::testing::TestParamInfo<Refused>& info) {
      std::string name;
      for (const char* c = info.param.what; *c; ++c) name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
      return name;
    });

TEST(RequestHeadTest, NulInAValueIsRefused) {
  // (The parameterised case above would stop at the NUL of a C string.)
  const std::string data("GET / HTTP/1.1\r\nHost: a\r\nX: 1\0x\r\n\r\n", 36);
  auto p = Request(data);
  ASSERT_EQ(p.status, ParseStatus::kError);
  EXPECT_EQ(p.error.status, 400);
}

TEST(RequestHeadTest, HeadSizeAndCountLimitsAnswer431) {
  Limits limits;
  limits.max_head_bytes = 64;
  auto big = Request("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(100, 'x') + "\r\n\r\n", limits);
  ASSERT_EQ(big.status, ParseStatus::kError);
  EXPECT_EQ(big.error.status, 431);
  // Also while incomplete: a client cannot make the proxy buffer beyond the limit.
  auto partial = Request("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(100, 'x'), limits);
  ASSERT_EQ(partial.status, ParseStatus::kError);
  EXPECT_EQ(partial.error.status, 431);

  Limits count;
  count.max_headers = 3;
  auto many = Request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", count);
  ASSERT_EQ(many.status, ParseStatus::kError);
  EXPECT_EQ(many.error.status, 431);
  EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", count).status, ParseStatus::kComplete);
}

TEST(ResponseHeadTest, StatusReasonAndFraming) {
  auto p = Response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(p.status, ParseStatus::kComplete) << p.error.reason;
  EXPECT_EQ(p.head.status, 200);
  EXPECT_EQ(p.head.reason, "OK");
  EXPECT_EQ(p.head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(p.head.content_length, 5u);
  EXPECT_TRUE(p.head.keep_alive);
  auto chunked = Response("HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(chunked.head.framing, BodyFraming::kChunked);
  EXPECT_EQ(chunked.head.reason, "Service Unavailable");
  auto no_reason = Response("HTTP/1.1 204\r\n\r\n");
  ASSERT_EQ(no_reason.status, ParseStatus::kComplete) << no_reason.error.reason;
  EXPECT_EQ(no_reason.head.status, 204);
}

TEST(ResponseHeadTest, WithoutLengthTheBodyRunsToCloseAndTheConnectionIsNotReused) {
  auto p = Response("HTTP/1.1 200 OK\r\n\r\nbody...");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head.framing, BodyFraming::kUntilClose);
  EXPECT_FALSE(p.head.keep_alive);
}

TEST(ResponseHeadTest, NoBodyForHeadAnd1xx204304) {
  EXPECT_EQ(Response("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", "HEAD").head.framing, BodyFraming::kNone);
  EXPECT_EQ(Response("HTTP/1.1 100 Continue\r\n\r\n").head.framing, BodyFraming::kNone);
  EXPECT_EQ(Response("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n").head.framing, BodyFraming::kNone);
  auto head = Response("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", "HEAD");
  EXPECT_TRUE(head.head.keep_alive);
}

TEST(ResponseHeadTest, AmbiguousUpstreamFramingIsA502) {
  auto both = Response("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(both.status, ParseStatus::kError);
  EXPECT_EQ(both.error.status, 502);
  auto bad = Response("HTTP/1.1 2x0 OK\r\n\r\n");
  ASSERT_EQ(bad.status, ParseStatus::kError);
  EXPECT_EQ(bad.error.status, 502);
  auto lf = Response("HTTP/1.1 200 OK\nContent-Length: 0\n\n");
  ASSERT_EQ(lf.status, ParseStatus::kError);
  EXPECT_EQ(lf.error.status, 502);
}

}  // namespace
}  // namespace cmesh::http1
