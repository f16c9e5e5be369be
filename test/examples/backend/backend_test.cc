// The demo backend over raw sockets: JSON answers, keep-alive and pipelining, bodies by length
// and chunked, refused smuggling, HEAD, HTTP/1.0, fixed-size bodies, SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "loopback_client.h"
#include "pilot_process.h"

namespace cmesh::testing {
namespace {

using ::testing::HasSubstr;
constexpr auto kDeadline = std::chrono::seconds(10);

// Sends `raw` (half-closing after it by default) and reads until the server closes.
std::string Exchange(int port, const std::string& raw, bool half_close = true) { return ExchangeTcp(port, raw, half_close); }

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

class BackendTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--service", "reviews", "--version", "v2"};
    args.insert(args.end(), extra.begin(), extra.end());
    backend_ = std::make_unique<PilotProcess>("cmesh-demo-backend", args);
    ASSERT_TRUE(backend_->started());
    auto port = backend_->WaitForPort("backend", kDeadline);
    ASSERT_TRUE(port) << backend_->Log();
    port_ = *port;
  }
  std::unique_ptr<PilotProcess> backend_;
  int port_ = 0;
};

TEST_F(BackendTest, AnswersWithAJsonDescriptionOfTheRequest) {
  Start();
  const std::string answer =
      Exchange(port_, "GET /reviews/1?u=2 HTTP/1.1\r\nHost: reviews:9080\r\nX-A: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n");
  ASSERT_THAT(answer, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(answer, HasSubstr("x-cmesh-backend: reviews-v2\r\n"));
  auto body = nlohmann::json::parse(answer.substr(answer.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["service"], "reviews");
  EXPECT_EQ(body["version"], "v2");
  EXPECT_EQ(body["method"], "GET");
  EXPECT_EQ(body["path"], "/reviews/1?u=2");
  EXPECT_EQ(body["headers"]["host"], "reviews:9080");
  EXPECT_EQ(body["headers"]["x-a"], "1,2");  // repeated headers joined, names lower-cased
}

TEST_F(BackendTest, PipelinedRequestsWithBodiesGetOneAnswerEach) {
  Start();
  const std::string answer = Exchange(port_,
                                      "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                                      "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                                      "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(Count(answer, "HTTP/1.1 200 OK"), 3) << answer;
  EXPECT_LT(answer.find("\"/a\""), answer.find("\"/b\""));
  EXPECT_LT(answer.find("\"/b\""), answer.find("\"/c\""));
}

TEST_F(BackendTest, LargeBodyFollowedByTheClientsEndOfInputIsStillAnswered) {
  Start();
  // Larger than one read, so the end of input arrives in the same burst as the body's tail.
  const std::string body(200 * 1024, 'b');
  const std::string answer =
      Exchange(port_, "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 200 OK")) << answer.substr(0, 200);
}

TEST_F(BackendTest, AmbiguousFramingIsRefusedAndTheConnectionClosed) {
  Start();
  const std::string answer = Exchange(port_,
                                      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 400 "));
  EXPECT_EQ(answer.find("smuggled"), std::string::npos);
  EXPECT_EQ(Count(answer, "HTTP/1.1"), 1);
}

TEST_F(BackendTest, ExpectContinueHeadAndHttp10) {
  Start();
  const std::string cont = Exchange(port_, "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nok");
  EXPECT_THAT(cont, ::testing::StartsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"));
  const std::string head = Exchange(port_, "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(head, HasSubstr("Content-Length: "));
  EXPECT_THAT(head, ::testing::EndsWith("\r\n\r\n"));  // no body after the head
  // HTTP/1.0 without keep-alive: answered, then closed by the server (no half-close needed).
  const std::string old = Exchange(port_, "GET / HTTP/1.0\r\n\r\n", /*half_close=*/false);
  EXPECT_THAT(old, ::testing::StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(old, HasSubstr("Connection: close\r\n"));
}

TEST_F(BackendTest, FixedSizeBodiesAndCleanExitOnSigterm) {
  Start({"--body-bytes", "1024", "--workers", "2"});
  const std::string answer = Exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(answer, HasSubstr("Content-Length: 1024\r\n"));
  EXPECT_EQ(answer.substr(answer.find("\r\n\r\n") + 4), std::string(1024, 'x'));
  EXPECT_EQ(backend_->SignalAndWait(SIGTERM, kDeadline), 0);
}

TEST(BackendFlagsTest, BadFlagsExitTwo) {
  PilotProcess bad("cmesh-demo-backend", {"--listen", "nowhere"});
  ASSERT_TRUE(bad.started());
  EXPECT_EQ(bad.Wait(kDeadline), 2);
  EXPECT_THAT(bad.Log(), HasSubstr("--listen: not ADDR:PORT"));
}

}  // namespace
}  // namespace cmesh::testing
