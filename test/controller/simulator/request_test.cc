#include "cmesh/simulator/request.h"

#include <gtest/gtest.h>

namespace cmesh::simulator {
namespace {

TEST(ParseUrlTest, SplitsHostPortAndPathWithQuery) {
  std::string error;
  auto r = ParseUrl("http://Reviews.default:9080/api/v1?x=1&y=2", &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->scheme, "http");
  EXPECT_EQ(r->host, "reviews.default");
  EXPECT_EQ(r->port, 9080u);
  EXPECT_EQ(r->path, "/api/v1?x=1&y=2");
  EXPECT_EQ(r->method, "GET");
}

TEST(ParseUrlTest, DefaultsPortAndPathFromScheme) {
  std::string error;
  auto http = ParseUrl("http://ratings", &error);
  ASSERT_TRUE(http);
  EXPECT_EQ(http->port, 80u);
  EXPECT_EQ(http->path, "/");
  auto https = ParseUrl("https://example.com?q", &error);
  ASSERT_TRUE(https);
  EXPECT_EQ(https->port, 443u);
  EXPECT_EQ(https->path, "/?q");
}

TEST(ParseUrlTest, RejectsMalformedUrls) {
  std::string error;
  EXPECT_FALSE(ParseUrl("reviews:9080/", &error));
  EXPECT_NE(error.find("scheme"), std::string::npos);
  EXPECT_FALSE(ParseUrl("ftp://x/", &error));
  EXPECT_FALSE(ParseUrl("http://x:port/", &error));
  EXPECT_FALSE(ParseUrl("http://x:70000/", &error));
  EXPECT_FALSE(ParseUrl("http:///path", &error));
}

TEST(ParseUrlTest, KeepsIpv6LiteralWithoutBrackets) {
  std::string error;
  auto r = ParseUrl("http://[fd00::1]:8080/", &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->host, "fd00::1");
  EXPECT_EQ(r->port, 8080u);
}

TEST(RequestTest, AuthorityOmitsTheSchemesDefaultPort) {
  Request r;
  r.host = "reviews";
  r.port = 80;
  EXPECT_EQ(r.Authority(), "reviews");
  r.port = 9080;
  EXPECT_EQ(r.Authority(), "reviews:9080");
  r.headers.emplace_back("Host", "other.example");
  EXPECT_EQ(r.Authority(), "other.example");
}

TEST(RequestTest, HeadersAreCaseInsensitiveAndJoined) {
  Request r;
  r.method = "POST";
  r.path = "/a?b";
  r.headers = {{"X-Id", "1"}, {"x-id", "2"}};
  EXPECT_EQ(r.Header("x-id"), "1,2");
  EXPECT_EQ(r.Header(":method"), "POST");
  EXPECT_EQ(r.Header(":path"), "/a?b");
  EXPECT_EQ(r.Header(":scheme"), "http");
  EXPECT_FALSE(r.Header("missing").has_value());
}

}  // namespace
}  // namespace cmesh::simulator
