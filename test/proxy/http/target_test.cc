#include "cmesh/http1/target.h"

#include <gtest/gtest.h>

#include "cmesh/http1/parser.h"

namespace cmesh::http1 {
namespace {

struct Read {
  std::optional<RoutingTarget> target;
  std::string_view why;
  RequestHead head;
  std::string data;
};

std::unique_ptr<Read> ReadOf(std::string data) {
  auto r = std::make_unique<Read>();
  r->data = std::move(data);
  std::size_t consumed = 0;
  ParseError error;
  EXPECT_EQ(ParseRequestHead(r->data, Limits{}, &r->head, &consumed, &error), ParseStatus::kComplete) << error.reason;
  r->target = ReadRoutingTarget(r->head, &r->why);
  return r;
}

TEST(RoutingTargetTest, OriginFormRoutesByHost) {
  auto r = ReadOf("GET /ratings/1?x=2 HTTP/1.1\r\nHost: ratings:9080\r\n\r\n");
  ASSERT_TRUE(r->target) << r->why;
  EXPECT_EQ(r->target->authority, "ratings:9080");
  EXPECT_EQ(r->target->host, "ratings");
  EXPECT_EQ(r->target->port, 9080);
  EXPECT_EQ(r->target->path, "/ratings/1?x=2");
  EXPECT_FALSE(r->target->absolute_form);
}

TEST(RoutingTargetTest, PortDefaultsToTheScheme) {
  auto r = ReadOf("GET / HTTP/1.1\r\nHost: ratings\r\n\r\n");
  ASSERT_TRUE(r->target);
  EXPECT_EQ(r->target->port, 80);
  auto s = ReadOf("GET https://secure/ HTTP/1.1\r\nHost: secure\r\n\r\n");
  ASSERT_TRUE(s->target) << s->why;
  EXPECT_EQ(s->target->port, 443);
}

TEST(RoutingTargetTest, AbsoluteFormWinsOverHost) {
  auto r = ReadOf("GET http://ratings:9080/x HTTP/1.1\r\nHost: elsewhere\r\n\r\n");
  ASSERT_TRUE(r->target) << r->why;
  EXPECT_EQ(r->target->authority, "ratings:9080");
  EXPECT_EQ(r->target->port, 9080);
  EXPECT_EQ(r->target->path, "/x");
  EXPECT_TRUE(r->target->absolute_form);
  auto bare = ReadOf("GET http://ratings HTTP/1.1\r\nHost: ratings\r\n\r\n");
  ASSERT_TRUE(bare->target);
  EXPECT_EQ(bare->target->path, "/");
  EXPECT_EQ(bare->target->port, 80);
}

TEST(RoutingTargetTest, Ipv6Authorities) {
  auto r = ReadOf("GET / HTTP/1.1\r\nHost: [fd00::1]:8080\r\n\r\n");
  ASSERT_TRUE(r->target) << r->why;
  EXPECT_EQ(r->target->host, "[fd00::1]");
  EXPECT_EQ(r->target->port, 8080);
}

TEST(RoutingTargetTest, UnservedFormsAreRefusedWithAReason) {
  for (const char* request : {"CONNECT ratings:443 HTTP/1.1\r\nHost: ratings:443\r\n\r\n",
                              "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
                              "GET ftp://files/x HTTP/1.1\r\nHost: a\r\n\r\n",
                              "GET http://user@host/x HTTP/1.1\r\nHost: a\r\n\r\n",
                              "GET / HTTP/1.1\r\nHost: ratings:0\r\n\r\n",
                              "GET / HTTP/1.1\r\nHost: ratings:99999\r\n\r\n",
                              "GET / HTTP/1.1\r\nHost: ratings:\r\n\r\n",
                              "GET / HTTP/1.1\r\nHost: \r\n\r\n"}) {
    auto r = ReadOf(request);
    EXPECT_FALSE(r->target) << request;
    EXPECT_FALSE(r->why.empty()) << request;
  }
}

}  // namespace
}  // namespace cmesh::http1
