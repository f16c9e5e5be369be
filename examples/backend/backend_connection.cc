#include "backend_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <nlohmann/json.hpp>

#include "cmesh/http1/parser.h"

namespace cmesh::demo {

void BackendConnection::Start(event::EventLoop& loop, int fd, const BackendOptions& options) {
  auto* connection = new BackendConnection(loop, fd, options);
  if (!loop.Add(fd, false, connection)) delete connection;
}

namespace {
std::atomic<std::uint64_t> connections{0};
}  // namespace

BackendConnection::BackendConnection(event::EventLoop& loop, int fd, const BackendOptions& options)
    : loop_(loop), fd_(fd), options_(options), id_(++connections) {}

BackendConnection::~BackendConnection() { ::close(fd_); }

void BackendConnection::Close() {
  loop_.Remove(fd_);
  delete this;
}

void BackendConnection::OnReady(std::uint32_t ready) {
  if (ready & event::kWritable) {
    Flush();
    if (out_.empty() && close_after_write_) return Close();
  }
  if (ready & (event::kReadable | event::kClosed)) {
    char buffer[16384];
    while (true) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        in_.append(buffer, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof buffer) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // End of input (or an error): answer what was read, then close.
      peer_done_ = true;
      break;
    }
    if (!close_after_write_ && !Process()) close_after_write_ = true;
    if (peer_done_) close_after_write_ = true;
    Flush();
    if (out_.empty() && close_after_write_) return Close();
  }
}

bool BackendConnection::Process() {
  std::size_t at = 0;
  while (true) {
    if (in_body_) {
      const std::string_view rest = std::string_view(in_).substr(at);
      if (body_framing_ == http1::BodyFraming::kContentLength) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, rest.size()));
        body_left_ -= n;
        at += n;
        if (body_left_ > 0) break;
      } else {
        std::vector<std::string_view> ignored;
        at += chunked_.Feed(rest, &ignored);
        if (chunked_.failed()) {
          out_ += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
          in_.clear();
          return false;
        }
        if (!chunked_.done()) break;
      }
      in_body_ = false;
      out_ += pending_answer_;
      pending_answer_.clear();
      if (close_after_write_) break;
      continue;
    }
    http1::RequestHead head;
    std::size_t consumed = 0;
    http1::ParseError error;
    const auto status = http1::ParseRequestHead(std::string_view(in_).substr(at), http1::Limits{}, &head, &consumed, &error);
    if (status == http1::ParseStatus::kIncomplete) break;
    if (status == http1::ParseStatus::kError) {
      out_ += "HTTP/1.1 " + std::to_string(error.status) + " Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      in_.clear();
      return false;
    }
    at += consumed;
    std::string answer = Answer(head);
    if (!head.keep_alive) close_after_write_ = true;
    if (head.framing == http1::BodyFraming::kNone) {
      out_ += answer;
      if (close_after_write_) break;
      continue;
    }
    if (head.expect_continue) out_ += "HTTP/1.1 100 Continue\r\n\r\n";
    in_body_ = true;
    body_framing_ = head.framing;
    body_left_ = head.content_length;
    chunked_ = http1::ChunkedDecoder();
    pending_answer_ = std::move(answer);
  }
  in_.erase(0, at);
  return true;
}

std::string BackendConnection::Answer(const http1::RequestHead& head) const {
  std::string body;
  if (options_.body_bytes > 0) {
    body.assign(options_.body_bytes, 'x');
  } else {
    nlohmann::json j;
    j["service"] = options_.service;
    j["version"] = options_.version;
    j["method"] = std::string(head.method);
    j["path"] = std::string(head.target);
    j["connection"] = id_;  // which of this backend's connections carried it (tests see reuse)
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& h : head.headers) {
      std::string name(h.name);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // A header sent several times reads as its values joined with ",", as HTTP defines.
      auto& slot = headers[name];
      slot = slot.is_null() ? std::string(h.value) : slot.get<std::string>() + "," + std::string(h.value);
    }
    j["headers"] = std::move(headers);
    body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: ";
  out += options_.body_bytes > 0 ? "text/plain" : "application/json";
  out += "\r\nContent-Length: " + std::to_string(body.size());
  out += "\r\nx-cmesh-backend: " + options_.service + "-" + options_.version + "\r\n";
  if (!head.keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (head.method != "HEAD") out += body;
  return out;
}

void BackendConnection::Flush() {
  while (!out_.empty()) {
    const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    out_.clear();
    close_after_write_ = true;
    break;
  }
  const bool want = !out_.empty();
  if (want != want_write_) {
    want_write_ = want;
    loop_.Modify(fd_, want);
  }
}

}  // namespace cmesh::demo
