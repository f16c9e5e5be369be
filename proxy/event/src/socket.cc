#include "cmesh/event/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cmesh::event {
namespace {

bool ToSockaddr(const Endpoint& e, sockaddr_storage* out, socklen_t* size) {
  *out = {};
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(out); ::inet_pton(AF_INET, e.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(e.port);
    *size = sizeof(sockaddr_in);
    return true;
  }
  if (auto* v6 = reinterpret_cast<sockaddr_in6*>(out); ::inet_pton(AF_INET6, e.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(e.port);
    *size = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::optional<Endpoint> FromSockaddr(const sockaddr_storage& s) {
  char text[INET6_ADDRSTRLEN] = {};
  Endpoint e;
  if (s.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&s);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    e.port = ntohs(v4->sin_port);
  } else if (s.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&s);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    e.port = ntohs(v6->sin6_port);
  } else {
    return std::nullopt;
  }
  e.address = text;
  return e;
}

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

std::string Endpoint::ToString() const {
  return address.find(':') != std::string::npos ? "[" + address + "]:" + std::to_string(port)
                                                : address + ":" + std::to_string(port);
}

int ListenTcp(const Endpoint& at, bool reuse_port, std::string* error) {
  sockaddr_storage addr;
  socklen_t size = 0;
  if (!ToSockaddr(at, &addr, &size)) {
    *error = "bad listen address \"" + at.address + "\"";
    return -1;
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = Errno("socket");
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), size) != 0 || ::listen(fd, 1024) != 0) {
    *error = Errno(("listen on " + at.ToString()).c_str());
    ::close(fd);
    return -1;
  }
  return fd;
}

int ConnectTcp(const Endpoint& to, std::string* error) { return ConnectTcpFrom(to, "", error); }

int ConnectTcpFrom(const Endpoint& to, const std::string& source, std::string* error) {
  sockaddr_storage addr;
  socklen_t size = 0;
  if (!ToSockaddr(to, &addr, &size)) {
    *error = "bad address \"" + to.address + "\"";
    return -1;
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = Errno("socket");
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!source.empty()) {
    sockaddr_storage local;
    socklen_t local_size = 0;
    if (!ToSockaddr({source, 0}, &local, &local_size) || local.ss_family != addr.ss_family) {
      *error = "source address \"" + source + "\" does not fit " + to.ToString();
      ::close(fd);
      return -1;
    }
    // A loopback source such as 127.0.0.6 is not configured on lo's 127.0.0.1/8 route as an
    // address, but Linux accepts any 127/8 address on lo; elsewhere the bind needs the address
    // to be local (or IP_FREEBIND, which is not wanted: a typo would then go unnoticed).
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), local_size) != 0) {
      *error = Errno(("bind to " + source).c_str());
      ::close(fd);
      return -1;
    }
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), size) != 0 && errno != EINPROGRESS) {
    *error = Errno(("connect to " + to.ToString()).c_str());
    ::close(fd);
    return -1;
  }
  return fd;
}

int ConnectResult(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

int AcceptTcp(int listen_fd, Endpoint* peer) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (peer) {
    if (auto e = FromSockaddr(addr)) *peer = *e;
  }
  return fd;
}

std::optional<Endpoint> LocalEndpoint(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return std::nullopt;
  return FromSockaddr(addr);
}

std::optional<Endpoint> OriginalDestination(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto local = LocalEndpoint(fd);
  if (!local) return std::nullopt;
  const bool v6 = local->address.find(':') != std::string::npos;
  const int level = v6 ? SOL_IPV6 : SOL_IP;
  const int option = v6 ? IP6T_SO_ORIGINAL_DST : SO_ORIGINAL_DST;
  if (::getsockopt(fd, level, option, &addr, &len) != 0) return local;  // not redirected
  return FromSockaddr(addr);
}

}  // namespace cmesh::event
