#include "http2_downstream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "http2_exchange.h"

namespace cmesh::proxy_core {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

bool StartHttp2Downstream(Worker& worker, int fd, DownstreamContext context, std::string already_read) {
  auto* connection = new Http2Downstream(worker, fd, std::move(context));
  if (!connection->Register(std::move(already_read))) {
    delete connection;  // closes fd
    return false;
  }
  return true;
}

Http2Downstream::Http2Downstream(Worker& worker, int fd, DownstreamContext context)
    : worker_(worker), fd_(fd), context_(std::move(context)), session_(http2::Settings{}, this) {}

Http2Downstream::~Http2Downstream() {
  *alive_ = false;
  if (fd_ >= 0) ::close(fd_);
}

bool Http2Downstream::Register(std::string already_read) {
  if (!worker_.loop().Add(fd_, false, this)) return false;
  worker_.Adopt(this);
  ArmIdleTimer();
  if (!already_read.empty()) {
    in_read_ = true;
    const bool ok = session_.Receive(already_read);
    in_read_ = false;
    Flush();
    if (!ok) Close();
    return true;
  }
  Flush();
  return true;
}

void Http2Downstream::OnReady(std::uint32_t ready) {
  if (dead_) return;
  if (ready & event::kWritable) Flush();
  if (!dead_ && (ready & (event::kReadable | event::kClosed))) Read();
}

void Http2Downstream::Read() {
  char buffer[kReadChunk];
  for (int i = 0; i < 16 && !dead_ && reading_; ++i) {
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      in_read_ = true;
      const bool ok = session_.Receive(std::string_view(buffer, static_cast<std::size_t>(n)));
      in_read_ = false;
      if (dead_) return;
      if (!ok) {
        // The GOAWAY saying why goes out first, as far as the socket takes it now.
        Flush();
        return Close();
      }
      continue;
    }
    if (n == 0) return Close();  // the client is gone: its streams with it
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return Close();
  }
  Flush();
}

void Http2Downstream::Flush() {
  // While reading, the exchanges' submits are written once, after the bytes read are processed
  // (Read flushes at its end): one send for many frames.
  if (dead_ || in_read_) return;
  // Only take more from the session while the socket keeps up: nghttp2 then holds the rest,
  // within the client's flow-control windows, and the exchanges see their buffers not drain.
  if (out_.size() < worker_.options().max_pending_bytes) out_ += session_.TakeOutput();
  while (!out_.empty()) {
    const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.erase(0, static_cast<std::size_t>(n));
      if (out_.empty() && session_.HasOutput()) out_ += session_.TakeOutput();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // A write error: reading will see the connection end.
    out_.clear();
    return Close();
  }
  const bool want_write = !out_.empty();
  const bool reading = out_.size() < worker_.options().max_pending_bytes;
  if (want_write != want_write_ || reading != reading_) {
    want_write_ = want_write;
    reading_ = reading;
    worker_.loop().Modify(fd_, reading_, want_write_);
  }
  if (out_.empty() && session_.Done()) Close();
}

Http2Exchange* Http2Downstream::Find(std::int32_t stream_id) {
  auto it = exchanges_.find(stream_id);
  return it == exchanges_.end() ? nullptr : it->second.get();
}

void Http2Downstream::OnRequestHeaders(std::int32_t stream_id, http2::HeaderList headers, bool end_stream) {
  if (idle_timer_) worker_.loop().Cancel(idle_timer_);
  idle_timer_ = 0;
  auto exchange = std::make_unique<Http2Exchange>(*this, stream_id);
  Http2Exchange* raw = exchange.get();
  exchanges_[stream_id] = std::move(exchange);
  raw->OnRequestHeaders(std::move(headers), end_stream);
}

void Http2Downstream::OnData(std::int32_t stream_id, std::string_view data, bool end_stream) {
  if (Http2Exchange* exchange = Find(stream_id)) {
    exchange->OnRequestData(data, end_stream);
  } else {
    session_.Consume(stream_id, data.size());
  }
}

void Http2Downstream::OnTrailers(std::int32_t stream_id, http2::HeaderList trailers) {
  if (Http2Exchange* exchange = Find(stream_id)) exchange->OnRequestTrailers(std::move(trailers));
}

void Http2Downstream::OnStreamClosed(std::int32_t stream_id, std::uint32_t error_code) {
  auto it = exchanges_.find(stream_id);
  if (it == exchanges_.end()) return;
  std::unique_ptr<Http2Exchange> exchange = std::move(it->second);
  exchanges_.erase(it);
  exchange->OnStreamClosed(error_code);
  Retire(std::move(exchange));
  if (exchanges_.empty()) ArmIdleTimer();
}

void Http2Downstream::OnSendBufferDrained(std::int32_t stream_id) {
  if (Http2Exchange* exchange = Find(stream_id)) exchange->OnResponseDrained();
}

void Http2Downstream::Retire(std::unique_ptr<Http2Exchange> exchange) {
  retired_.push_back(std::move(exchange));
  if (cleanup_posted_) return;
  cleanup_posted_ = true;
  worker_.loop().Post([this, alive = alive_] {
    if (!*alive) return;
    cleanup_posted_ = false;
    retired_.clear();
  });
}

// The connection manager's idle timeout: no stream for that long sends GOAWAY and closes.
void Http2Downstream::ArmIdleTimer() {
  if (context_.idle_timeout.count() <= 0 || dead_ || idle_timer_ != 0) return;
  idle_timer_ = worker_.loop().RunAfter(context_.idle_timeout, [this] {
    idle_timer_ = 0;
    if (!exchanges_.empty()) return;
    session_.Goaway();
    Flush();
    Close();
  });
}

void Http2Downstream::Drain() {
  if (dead_) return;
  session_.Goaway();
  Flush();  // closes once the session is done: GOAWAY written and no stream left
}

void Http2Downstream::Close() {
  if (dead_) return;
  dead_ = true;
  if (idle_timer_) worker_.loop().Cancel(idle_timer_);
  idle_timer_ = 0;
  // Streams still open end with the connection (their upstream attempts are cancelled).
  auto open = std::move(exchanges_);
  exchanges_.clear();
  for (auto& [id, exchange] : open) {
    exchange->OnStreamClosed(http2::kCancel);
    retired_.push_back(std::move(exchange));
  }
  worker_.loop().Remove(fd_);
  ::close(fd_);
  fd_ = -1;
  worker_.Forget(this);
  worker_.loop().Post([this] { delete this; });
}

}  // namespace cmesh::proxy_core
