#include "scripted_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace cmesh::testing {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value of header `name` (lower case) in `head`, or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  const std::string lower = Lower(head);
  const std::size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  std::size_t start = at + 3 + name.size();
  while (start < head.size() && head[start] == ' ') ++start;
  return head.substr(start, head.find("\r\n", start) - start);
}

}  // namespace

ScriptedBackend::ScriptedBackend(std::string ip, std::string name) : ip_(std::move(ip)), name_(std::move(name)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip_.c_str(), &addr.sin_addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 128) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

ScriptedBackend::~ScriptedBackend() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void ScriptedBackend::Kill() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

std::vector<ScriptedBackend::Seen> ScriptedBackend::Requests() {
  std::lock_guard lock(mutex_);
  return seen_;
}

std::size_t ScriptedBackend::Count() {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

void ScriptedBackend::Run() {
  std::map<int, std::string> clients;  // fd → unread bytes
  while (!stop_) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (const auto& [fd, buffer] : clients) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) clients[fd] = "";
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const int fd = fds[i].fd;
      char chunk[16384];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::close(fd);
        clients.erase(fd);
        continue;
      }
      clients[fd].append(chunk, static_cast<std::size_t>(n));
      Serve(fd, clients[fd]);
    }
  }
  for (const auto& [fd, buffer] : clients) ::close(fd);
}

void ScriptedBackend::Serve(int fd, std::string& buffer) {
  while (true) {
    const std::size_t end = buffer.find("\r\n\r\n");
    if (end == std::string::npos) return;
    const std::string head = buffer.substr(0, end + 2);
    const std::string length = HeaderValue(head, "content-length");
    const std::size_t body_size = length.empty() ? 0 : std::stoul(length);
    if (buffer.size() < end + 4 + body_size) return;
    Seen seen;
    const std::size_t sp1 = head.find(' ');
    const std::size_t sp2 = head.find(' ', sp1 + 1);
    seen.method = head.substr(0, sp1);
    seen.path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    seen.host = HeaderValue(head, "host");
    seen.body = buffer.substr(end + 4, body_size);
    buffer.erase(0, end + 4 + body_size);
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(seen);
    }
    if (mute_) continue;
    if (partial_) {
      const std::string head = "HTTP/1.1 200 OK\r\nx-backend: " + name_ + "\r\ncontent-length: 100\r\n\r\nstart";
      ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
      continue;
    }
    const int status = status_;
    const std::string body = name_ + "\n";
    const std::string response = "HTTP/1.1 " + std::to_string(status) + " X\r\nx-backend: " + name_ +
                                 "\r\ncontent-length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
  }
}

}  // namespace cmesh::testing
