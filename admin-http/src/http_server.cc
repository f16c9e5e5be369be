#include "cmesh/admin_http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cmesh::admin_http {
namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

void WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::optional<HttpRequest> ParseRequestLine(std::string_view line) {
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return std::nullopt;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return std::nullopt;
  std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return std::nullopt;
  HttpRequest request;
  request.method = std::string(line.substr(0, sp1));
  for (char c : request.method) {
    if (c < 'A' || c > 'Z') return std::nullopt;
  }
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target[0] != '/') return std::nullopt;
  auto q = target.find('?');
  auto path = PercentDecode(target.substr(0, q));
  if (!path) return std::nullopt;
  request.path = *path;
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      auto eq = pair.find('=');
      auto key = PercentDecode(pair.substr(0, eq));
      auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!key || !value) return std::nullopt;
      if (!key->empty()) request.query[*key] = *value;
      if (amp == std::string_view::npos) break;
      rest = rest.substr(amp + 1);
    }
  }
  return request;
}

HttpServer::~HttpServer() { Stop(); }

bool HttpServer::Start(const std::string& address, int port, std::string* error) {
  // IPv4 or IPv6 by the address's form; "::" listens on both families (IPV6_V6ONLY off), as
  // Istio's pilot does on every interface.
  sockaddr_storage storage{};
  socklen_t size = 0;
  int family = AF_INET;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&storage); ::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    size = sizeof(sockaddr_in);
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
             ::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    size = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    *error = "bad listen address \"" + address + "\" (an IPv4 or IPv6 literal)";
    return false;
  }
  listen_fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) {
    int zero = 0;
    ::setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&storage), size) != 0 || ::listen(listen_fd_, 64) != 0) {
    *error = "cannot listen on " + address + ":" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  socklen_t len = sizeof storage;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&storage), &len);
  port_ = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port)
                            : ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  thread_ = std::thread([this] { Run(); });
  return true;
}

void HttpServer::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void HttpServer::Run() {
  // Polls with a timeout so Stop() is seen without closing the socket under the thread.
  while (!stopping_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 200);
    if (ready <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Serve(fd);
    ::close(fd);
  }
}

void HttpServer::Serve(int fd) {
  // One slow or silent client must not hold the only thread for long.
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  std::string head;
  char buffer[4096];
  HttpResponse response;
  bool complete = false;
  while (head.size() <= kMaxHeaderBytes) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    head.append(buffer, static_cast<std::size_t>(n));
    if (head.find("\r\n\r\n") != std::string::npos || head.find("\n\n") != std::string::npos) {
      complete = true;
      break;
    }
  }
  std::optional<HttpRequest> request;
  if (!complete && head.size() > kMaxHeaderBytes) {
    response = {431, "text/plain; charset=utf-8", "request header too large\n"};
  } else if (!complete && head.empty()) {
    return;  // the client went away without a request
  } else {
    auto eol = head.find('\n');
    std::string_view line(head.data(), eol == std::string::npos ? head.size() : eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    request = complete ? ParseRequestLine(line) : std::nullopt;
    if (!request) response = {400, "text/plain; charset=utf-8", "malformed request\n"};
    else if (request->method != "GET" && request->method != "HEAD" && !(allow_post_ && request->method == "POST"))
      response = {405, "text/plain; charset=utf-8", allow_post_ ? "only GET and POST are supported\n" : "only GET is supported\n"};
    else response = handler_(*request);
  }
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + Reason(response.status) + "\r\n" +
                    "Content-Type: " + response.content_type + "\r\n" +
                    "Content-Length: " + std::to_string(response.body.size()) + "\r\n" +
                    "Connection: close\r\n\r\n";
  if (!request || request->method != "HEAD") out += response.body;
  WriteAll(fd, out);
}

}  // namespace cmesh::admin_http
