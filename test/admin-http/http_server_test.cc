#include "cmesh/admin_http/http_server.h"

#include <gtest/gtest.h>

#include "pilot_process.h"

namespace cmesh::admin_http {
namespace {

using testing::RawHttp;

HttpResponse Echo(const HttpRequest& request) {
  std::string body = request.method + " " + request.path;
  for (const auto& [k, v] : request.query) body += " " + k + "=" + v;
  return {200, "text/plain", body};
}

TEST(HttpServerTest, GetWithDecodedQuery) {
  HttpServer server(Echo);
  std::string error;
  ASSERT_TRUE(server.Start("127.0.0.1", 0, &error)) << error;
  auto result = RawHttp(server.port(), "GET /config_dump?resource=a%7Cb HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "GET /config_dump resource=a|b");
}

TEST(HttpServerTest, PostOnlyWhenAllowed) {
  HttpServer get_only(Echo);
  HttpServer admin(Echo, /*allow_post=*/true);
  std::string error;
  ASSERT_TRUE(get_only.Start("127.0.0.1", 0, &error)) << error;
  ASSERT_TRUE(admin.Start("127.0.0.1", 0, &error)) << error;
  EXPECT_EQ(RawHttp(get_only.port(), "POST /quitquitquit HTTP/1.1\r\nHost: x\r\n\r\n").status, 405);
  auto posted = RawHttp(admin.port(), "POST /quitquitquit HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(posted.status, 200);
  EXPECT_EQ(posted.body, "POST /quitquitquit");
  EXPECT_EQ(RawHttp(admin.port(), "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n").status, 405);
  EXPECT_EQ(RawHttp(admin.port(), "garbage\r\n\r\n").status, 400);
}

}  // namespace
}  // namespace cmesh::admin_http
