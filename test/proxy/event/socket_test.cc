#include "cmesh/event/socket.h"

#include <sys/socket.h>

#include <cerrno>
#include <unistd.h>

#include <gtest/gtest.h>

#include "cmesh/event/event_loop.h"

namespace cmesh::event {
namespace {

TEST(SocketTest, ListenConnectAcceptOnLoopback) {
  std::string error;
  const int listener = ListenTcp({"127.0.0.1", 0}, /*reuse_port=*/true, &error);
  ASSERT_GE(listener, 0) << error;
  auto local = LocalEndpoint(listener);
  ASSERT_TRUE(local.has_value());
  ASSERT_GT(local->port, 0);

  const int client = ConnectTcp(*local, &error);
  ASSERT_GE(client, 0) << error;
  Endpoint peer;
  int server = -1;
  for (int i = 0; i < 200 && server < 0; ++i) {
    server = AcceptTcp(listener, &peer);
    if (server < 0) ::usleep(1000);
  }
  ASSERT_GE(server, 0);
  EXPECT_EQ(peer.address, "127.0.0.1");
  EXPECT_EQ(ConnectResult(client), 0);
  // Not redirected: the original destination is the listener's own address.
  auto original = OriginalDestination(server);
  ASSERT_TRUE(original.has_value());
  EXPECT_EQ(original->ToString(), local->ToString());
  ::close(server);
  ::close(client);
  ::close(listener);
}

TEST(SocketTest, TwoListenersShareAPortOnlyWithReusePort) {
  std::string error;
  const int first = ListenTcp({"127.0.0.1", 0}, true, &error);
  ASSERT_GE(first, 0) << error;
  const Endpoint at = *LocalEndpoint(first);
  const int second = ListenTcp(at, true, &error);
  EXPECT_GE(second, 0) << error;  // one listener per worker
  const int third = ListenTcp(at, false, &error);
  EXPECT_LT(third, 0);
  EXPECT_NE(error.find("listen on 127.0.0.1:" + std::to_string(at.port)), std::string::npos) << error;
  ::close(first);
  if (second >= 0) ::close(second);
}

TEST(SocketTest, RefusedConnectIsReported) {
  std::string error;
  const int listener = ListenTcp({"127.0.0.1", 0}, false, &error);
  ASSERT_GE(listener, 0);
  const Endpoint closed = *LocalEndpoint(listener);
  ::close(listener);  // nothing listens there now
  const int fd = ConnectTcp(closed, &error);
  if (fd < 0) {
    // Refused at once (possible on loopback): the error says so.
    EXPECT_NE(error.find("Connection refused"), std::string::npos) << error;
    return;
  }
  // Refused later: SO_ERROR tells (and is cleared by reading it, so read it once).
  int result = 0;
  for (int i = 0; i < 200 && result == 0; ++i) {
    ::usleep(1000);
    result = ConnectResult(fd);
  }
  EXPECT_EQ(result, ECONNREFUSED);
  ::close(fd);
}

TEST(SocketTest, BadAddressesAreErrors) {
  std::string error;
  EXPECT_LT(ListenTcp({"not-an-ip", 80}, false, &error), 0);
  EXPECT_NE(error.find("not-an-ip"), std::string::npos);
  EXPECT_EQ(Endpoint({"::1", 8080}).ToString(), "[::1]:8080");
}

}  // namespace
}  // namespace cmesh::event
