#include "http2_upstream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

#include "cmesh/http2/client_session.h"
#include "cmesh/upstream/connection_pool.h"

namespace cmesh::proxy_core {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

// Connection-specific fields (RFC 9113 §8.2.2) never cross an HTTP/2 hop.
bool ConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" || name == "transfer-encoding" ||
         name == "upgrade";
}

class Connection;

// The registry of this worker thread's HTTP/2 upstream connections.
struct Registry {
  std::unordered_map<std::string, std::vector<Connection*>> by_key;
  std::size_t count = 0;
  ~Registry();
};
thread_local Registry registry;

class Stream final : public Http2UpstreamRequest {
 public:
  Stream(Http2UpstreamHandler* handler, http2::HeaderList headers, bool end_stream, std::string host)
      : handler_(handler), headers_(std::move(headers)), headers_end_(end_stream), host_(std::move(host)) {
    ended_ = end_stream;
  }
  ~Stream() override;
  void SendData(std::string_view data, bool end_stream) override;
  void SendTrailers(const http2::HeaderList& trailers) override;
  std::size_t RequestBacklog() const override;
  void ConsumeResponse(std::size_t bytes) override;
  std::string UpstreamHost() const override { return host_; }

 private:
  friend class Connection;
  Connection* connection_ = nullptr;
  Http2UpstreamHandler* handler_;
  std::int32_t id_ = -1;  // -1: not submitted yet (connecting, or waiting for a free stream)
  http2::HeaderList headers_;
  bool headers_end_;
  std::string early_body_;  // body before the stream exists
  bool early_end_ = false;
  std::optional<http2::HeaderList> early_trailers_;
  bool ended_ = false;      // the exchange ended the request
  bool finished_ = false;   // the response ended or the attempt failed: no more callbacks
  std::string host_;
};

class Connection final : public event::IoWatcher, public http2::ClientCallbacks {
 public:
  Connection(event::EventLoop& loop, std::string key, event::Endpoint endpoint, const upstream::ClusterInfo& cluster,
             std::chrono::milliseconds idle_cap)
      : loop_(loop),
        key_(std::move(key)),
        endpoint_(std::move(endpoint)),
        connect_timeout_(cluster.connect_timeout),
        idle_timeout_(upstream::PoolOptionsFor(cluster, idle_cap).idle_timeout),
        source_address_(upstream::SourceAddressFor(cluster.source_addresses, endpoint_)),
        session_(http2::Settings{}, this) {}

  ~Connection() override {
    if (fd_ >= 0) ::close(fd_);
  }

  // Starts the connect; false when it failed at once (the connection is then unusable).
  bool Connect() {
    std::string error;
    fd_ = event::ConnectTcpFrom(endpoint_, source_address_, &error);
    if (fd_ < 0 || !loop_.Add(fd_, /*writable=*/true, this)) {
      failure_ = "connect to " + endpoint_.ToString() + " failed: " + error;
      return false;
    }
    registered_ = true;
    connect_timer_ = loop_.RunAfter(connect_timeout_, [this] {
      connect_timer_ = 0;
      Fail(/*connect_failure=*/true, "upstream connect timeout");
    });
    return true;
  }

  bool HasRoom() {
    if (closing_ || going_away_ || session_.failed()) return false;
    if (connecting_) return waiting_.size() < 100;  // nghttp2's assumption before SETTINGS
    return waiting_.empty() && session_.CanSubmitRequest();
  }

  void Attach(Stream* stream) {
    stream->connection_ = this;
    CancelIdle();
    waiting_.push_back(stream);
    if (!connecting_) {
      SubmitWaiting();
      Flush();
    }
  }

  // The stream's owner let go of it: reset it unless both sides ended (then what is still
  // buffered for it goes out and the stream closes by itself).
  void Detach(Stream* stream) {
    stream->connection_ = nullptr;
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
      if (*it == stream) {
        waiting_.erase(it);
        MaybeIdle();
        return;
      }
    }
    if (stream->id_ < 0) return;
    streams_.erase(stream->id_);
    if (!closing_ && session_.HasStream(stream->id_) && !(stream->finished_ && stream->ended_)) {
      session_.ResetStream(stream->id_, http2::kCancel);
      Flush();
    }
    MaybeIdle();
  }

  void SendData(Stream* stream, std::string_view data, bool end_stream) {
    session_.SubmitData(stream->id_, data, end_stream);
    Flush();
  }
  void SendTrailers(Stream* stream, const http2::HeaderList& trailers) {
    session_.SubmitTrailers(stream->id_, trailers);
    Flush();
  }
  std::size_t Buffered(const Stream* stream) const { return session_.BufferedBytes(stream->id_); }
  void Consume(Stream* stream, std::size_t bytes) {
    session_.Consume(stream->id_, bytes);
    Flush();
  }

  // Worker shutdown (the registry goes with the thread): close without telling the streams,
  // whose exchanges are being aborted as well.
  void Shutdown() {
    closing_ = true;
    for (Stream* s : waiting_) s->connection_ = nullptr;
    for (auto& [id, s] : streams_) s->connection_ = nullptr;
    waiting_.clear();
    streams_.clear();
    Unregister();
  }

  void OnReady(std::uint32_t ready) override {
    if (closing_) return;
    if (connecting_) {
      if (!(ready & (event::kWritable | event::kClosed))) return;
      const int err = event::ConnectResult(fd_);
      if (err != 0) return Fail(true, "upstream connect error: " + std::string(std::strerror(err)));
      connecting_ = false;
      if (connect_timer_) loop_.Cancel(connect_timer_);
      connect_timer_ = 0;
      SubmitWaiting();
      Flush();
      return;
    }
    if (ready & event::kWritable) Flush();
    if (!closing_ && (ready & (event::kReadable | event::kClosed))) Read();
  }

  // ClientCallbacks.
  void OnResponseHeaders(std::int32_t id, http2::HeaderList headers, bool end_stream) override {
    Stream* s = Find(id);
    if (s == nullptr) return;
    http2::HeaderList out;
    out.reserve(headers.size());
    for (auto& h : headers) {
      if (!ConnectionSpecific(h.first)) out.push_back(std::move(h));
    }
    if (end_stream) s->finished_ = true;
    s->handler_->OnUpstreamHeaders(std::move(out), end_stream);
  }
  void OnData(std::int32_t id, std::string_view data, bool end_stream) override {
    Stream* s = Find(id);
    if (s == nullptr) {
      session_.Consume(id, data.size());
      return;
    }
    if (end_stream) s->finished_ = true;
    s->handler_->OnUpstreamData(data, end_stream);
  }
  void OnTrailers(std::int32_t id, http2::HeaderList trailers) override {
    Stream* s = Find(id);
    if (s == nullptr) return;
    s->finished_ = true;
    s->handler_->OnUpstreamTrailers(std::move(trailers));
  }
  void OnStreamClosed(std::int32_t id, std::uint32_t error_code) override {
    auto it = streams_.find(id);
    if (it != streams_.end()) {
      Stream* s = it->second;
      streams_.erase(it);
      s->connection_ = nullptr;
      s->id_ = -1;
      if (!s->finished_) {
        s->finished_ = true;
        s->handler_->OnUpstreamReset(false, error_code == http2::kRefusedStream,
                                     "upstream reset the stream (HTTP/2 error " + std::to_string(error_code) + ")");
      }
    }
    if (!closing_) {
      SubmitWaiting();
      MaybeIdle();
    }
  }
  void OnGoaway(std::int32_t, std::uint32_t) override {
    // Streams above the last one are refused by the session (OnStreamClosed); the others finish.
    going_away_ = true;
    RemoveFromRegistry();
  }
  void OnSendBufferDrained(std::int32_t id) override {
    if (Stream* s = Find(id)) s->handler_->OnUpstreamRequestDrained();
  }

 private:
  Stream* Find(std::int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second;
  }

  void SubmitWaiting() {
    while (!waiting_.empty() && !closing_ && session_.CanSubmitRequest()) {
      Stream* s = waiting_.front();
      const std::int32_t id = session_.SubmitRequest(s->headers_, s->headers_end_);
      if (id < 0) break;
      waiting_.erase(waiting_.begin());
      s->id_ = id;
      streams_[id] = s;
      if (!s->early_body_.empty() || s->early_end_) {
        session_.SubmitData(id, s->early_body_, s->early_end_ && !s->early_trailers_);
        s->early_body_.clear();
      }
      if (s->early_trailers_) session_.SubmitTrailers(id, *s->early_trailers_);
      s->early_trailers_.reset();
    }
    if (!waiting_.empty() && !closing_ && (going_away_ || session_.failed())) {
      // This connection will never take them: they were not sent anywhere, so they may go again.
      std::vector<Stream*> refused;
      refused.swap(waiting_);
      for (Stream* s : refused) {
        s->connection_ = nullptr;
        s->finished_ = true;
        s->handler_->OnUpstreamReset(false, true, "upstream connection going away");
      }
    }
  }

  void Read() {
    char buffer[kReadChunk];
    for (int i = 0; i < 16 && !closing_; ++i) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        in_read_ = true;
        const bool ok = session_.Receive(std::string_view(buffer, static_cast<std::size_t>(n)));
        in_read_ = false;
        if (closing_) return;
        if (!ok) {
          Flush();
          return Fail(false, "upstream HTTP/2 protocol error: " + session_.error());
        }
        continue;
      }
      if (n == 0) return Fail(false, "upstream closed the connection");
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return Fail(false, "upstream connection error: " + std::string(std::strerror(errno)));
    }
    Flush();
    if (!closing_ && session_.Done()) Fail(false, "upstream connection finished");
  }

  void Flush() {
    // While reading, submits made by the callbacks go out once, when Read flushes at its end.
    if (closing_ || connecting_ || fd_ < 0 || in_read_) return;
    out_ += session_.TakeOutput();
    while (!out_.empty()) {
      const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.erase(0, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // The socket is dead: reading will tell (EOF/error), or fail now if nothing will.
      out_.clear();
      loop_.Post([this, alive = alive_] {
        if (*alive && !closing_) Fail(false, "upstream write failed");
      });
      return;
    }
    const bool want_write = !out_.empty();
    if (want_write != want_write_) {
      want_write_ = want_write;
      loop_.Modify(fd_, want_write);
    }
  }

  void MaybeIdle() {
    if (closing_ || !streams_.empty() || !waiting_.empty()) return;
    if (going_away_) {
      // Deferred: this runs inside callbacks of the session that is about to be deleted.
      loop_.Post([this, alive = alive_] {
        if (*alive && !closing_ && streams_.empty() && waiting_.empty()) Fail(false, "upstream connection drained");
      });
      return;
    }
    if (idle_timeout_.count() <= 0 || idle_timer_ != 0) return;
    idle_timer_ = loop_.RunAfter(idle_timeout_, [this] {
      idle_timer_ = 0;
      if (streams_.empty() && waiting_.empty()) {
        session_.Goaway();
        Flush();
        Fail(false, "idle");
      }
    });
  }
  void CancelIdle() {
    if (idle_timer_) loop_.Cancel(idle_timer_);
    idle_timer_ = 0;
  }

  void RemoveFromRegistry() {
    auto it = registry.by_key.find(key_);
    if (it == registry.by_key.end()) return;
    auto& list = it->second;
    for (auto c = list.begin(); c != list.end(); ++c) {
      if (*c == this) {
        list.erase(c);
        break;
      }
    }
    if (list.empty()) registry.by_key.erase(it);
  }

  void Unregister() {
    RemoveFromRegistry();
    CancelIdle();
    if (connect_timer_) loop_.Cancel(connect_timer_);
    connect_timer_ = 0;
    if (registered_) loop_.Remove(fd_);
    registered_ = false;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    *alive_ = false;
    if (registry.count > 0) --registry.count;
  }

 public:
  // Closes the connection; the attempts on it fail. Deleted later, from the loop.
  void Fail(bool connect_failure, const std::string& detail) {
    if (closing_) return;
    closing_ = true;
    Unregister();
    std::vector<Stream*> affected = waiting_;
    const bool never_sent = connect_failure;
    for (auto& [id, s] : streams_) affected.push_back(s);
    waiting_.clear();
    streams_.clear();
    for (Stream* s : affected) {
      s->connection_ = nullptr;
      s->id_ = -1;
      if (s->finished_) continue;
      s->finished_ = true;
      s->handler_->OnUpstreamReset(connect_failure, never_sent, detail);
    }
    loop_.Post([this] { delete this; });
  }

  const std::string& failure() const { return failure_; }

 private:
  event::EventLoop& loop_;
  const std::string key_;
  const event::Endpoint endpoint_;
  const std::chrono::milliseconds connect_timeout_;
  const std::chrono::milliseconds idle_timeout_;
  const std::string source_address_;
  http2::ClientSession session_;
  int fd_ = -1;
  bool registered_ = false;
  bool connecting_ = true;
  bool closing_ = false;
  bool going_away_ = false;
  bool want_write_ = true;
  bool in_read_ = false;
  std::string out_;
  std::string failure_;
  std::vector<Stream*> waiting_;                     // attached, not yet submitted (oldest first)
  std::unordered_map<std::int32_t, Stream*> streams_;  // submitted, by stream id
  event::TimerId connect_timer_ = 0;
  event::TimerId idle_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted tasks
};

Registry::~Registry() {
  auto all = std::move(by_key);
  by_key.clear();
  for (auto& [key, list] : all) {
    for (Connection* c : std::vector<Connection*>(list)) {
      c->Shutdown();
      delete c;
    }
  }
}

Stream::~Stream() {
  if (connection_ != nullptr) connection_->Detach(this);
}

void Stream::SendData(std::string_view data, bool end_stream) {
  if (ended_ && !(data.empty() && !end_stream)) return;
  if (end_stream) ended_ = true;
  if (connection_ == nullptr) return;
  if (id_ < 0) {
    early_body_.append(data);
    early_end_ = early_end_ || end_stream;
    return;
  }
  connection_->SendData(this, data, end_stream);
}

void Stream::SendTrailers(const http2::HeaderList& trailers) {
  if (ended_) return;
  ended_ = true;
  if (connection_ == nullptr) return;
  if (id_ < 0) {
    early_trailers_ = trailers;
    early_end_ = true;
    return;
  }
  connection_->SendTrailers(this, trailers);
}

std::size_t Stream::RequestBacklog() const {
  if (id_ < 0) return early_body_.size();
  return connection_ == nullptr ? 0 : connection_->Buffered(this);
}

void Stream::ConsumeResponse(std::size_t bytes) {
  if (connection_ != nullptr && id_ >= 0) connection_->Consume(this, bytes);
}

}  // namespace

std::unique_ptr<Http2UpstreamRequest> StartHttp2Upstream(event::EventLoop& loop, const upstream::ClusterInfo& cluster,
                                                         const event::Endpoint& endpoint,
                                                         std::chrono::milliseconds idle_timeout_cap,
                                                         http2::HeaderList headers, bool end_stream,
                                                         Http2UpstreamHandler* handler) {
  // Pools are per cluster and endpoint, as the HTTP/1.1 ones: clusters differ in timeouts and
  // source address even when they share an endpoint.
  const std::string key = cluster.name + '\n' + endpoint.ToString();
  auto stream = std::make_unique<Stream>(handler, std::move(headers), end_stream, endpoint.ToString());
  Connection* connection = nullptr;
  if (auto it = registry.by_key.find(key); it != registry.by_key.end()) {
    for (Connection* c : it->second) {
      if (c->HasRoom()) {
        connection = c;
        break;
      }
    }
  }
  if (connection == nullptr) {
    connection = new Connection(loop, key, endpoint, cluster, idle_timeout_cap);
    if (!connection->Connect()) {
      delete connection;
      return nullptr;  // the caller answers as for any connect failure
    }
    registry.by_key[key].push_back(connection);
    ++registry.count;
  }
  connection->Attach(stream.get());
  return stream;
}

std::size_t Http2UpstreamConnectionCount() { return registry.count; }

}  // namespace cmesh::proxy_core
