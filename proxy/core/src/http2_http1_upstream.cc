#include "http2_http1_upstream.h"

#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "cmesh/http1/chunked.h"
#include "cmesh/http1/parser.h"
#include "cmesh/upstream/connection_pool.h"

namespace cmesh::proxy_core {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Http1Bridge final : public Http2UpstreamRequest, private upstream::PoolCallbacks, private event::IoWatcher {
 public:
  Http1Bridge(Worker& worker, std::shared_ptr<Worker::ClusterState> state, std::size_t host, Http1UpstreamHead head,
              Http2UpstreamHandler* handler)
      : worker_(worker),
        state_(std::move(state)),
        pool_(state_->pools[host].get()),
        method_(head.method),
        handler_(handler) {
    http1::BodyFraming framing = http1::BodyFraming::kNone;
    std::uint64_t length = 0;
    if (head.content_length) {
      framing = http1::BodyFraming::kContentLength;
      length = *head.content_length;
    } else if (!head.end_stream) {
      framing = http1::BodyFraming::kChunked;
    }
    chunked_ = framing == http1::BodyFraming::kChunked;
    request_ended_ = head.end_stream;
    http1::AppendRequestHead(&out_, head.method, head.path, head.headers, framing, length);
  }

  ~Http1Bridge() override {
    *alive_ = false;
    if (queued_) pool_->CancelWaiting(*this);
    if (pending_ != nullptr) pool_->Cancel(pending_);
    // The exchange lets go of this attempt from inside the call that delivers the end of the
    // response, before MaybeDone could hand the connection back: a complete exchange with
    // nothing more read than what was being delivered keeps the connection alive.
    if (connection_ != nullptr) {
      Finish(response_done_ && request_ended_ && out_.empty() && keep_alive_ && in_.size() == delivering_);
    }
  }

  void Start() {
    pool_->AttachRuntime(state_->runtime);
    auto acquired = pool_->Acquire(*this);
    if (acquired.ready != nullptr) {
      // Reported from the loop like every other outcome, never from inside StartHttp1Upstream.
      UseConnection(*acquired.ready);
      worker_.loop().Post([this, alive = alive_] {
        if (*alive) Flush();
      });
    } else if (acquired.pending != nullptr) {
      pending_ = acquired.pending;
    } else {
      queued_ = acquired.queued;
    }
  }

  void SendData(std::string_view data, bool end_stream) override {
    if (request_ended_) return;
    if (chunked_) {
      http1::AppendChunk(&out_, data);
      if (end_stream) http1::AppendLastChunk(&out_);
    } else {
      out_.append(data);
    }
    request_ended_ = end_stream;
    Flush();
  }
  void SendTrailers(const http2::HeaderList&) override { SendData({}, true); }
  std::size_t RequestBacklog() const override { return out_.size(); }
  void ConsumeResponse(std::size_t bytes) override {
    unconsumed_ -= std::min(bytes, unconsumed_);
    if (connection_ != nullptr && paused_ && unconsumed_ < kPauseAt) {
      paused_ = false;
      connection_->SetReadable(true);
    }
  }
  std::string UpstreamHost() const override { return pool_->endpoint().ToString(); }

 private:
  static constexpr std::size_t kPauseAt = 256 * 1024;

  void OnPoolReady(upstream::UpstreamConnection& connection) override {
    pending_ = nullptr;
    queued_ = false;
    UseConnection(connection);
    Flush();
  }
  void OnPoolFailure(upstream::PoolFailure, std::string_view detail) override {
    pending_ = nullptr;
    queued_ = false;
    Finish(/*keep_alive=*/false);
    handler_->OnUpstreamReset(true, true, detail);
  }

  void UseConnection(upstream::UpstreamConnection& connection) {
    connection_ = &connection;
    connection.SetWatcher(this);
  }

  void OnReady(std::uint32_t ready) override {
    if (ready & event::kWritable) Flush();
    if (connection_ != nullptr && (ready & (event::kReadable | event::kClosed))) Read();
  }

  void Flush() {
    if (connection_ == nullptr) return;
    const bool had = !out_.empty();
    while (!out_.empty()) {
      const ssize_t n = ::send(connection_->fd(), out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.erase(0, static_cast<std::size_t>(n));
        wrote_ = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return Reset("upstream write failed: " + std::string(std::strerror(errno)));
    }
    connection_->SetWritable(!out_.empty());
    if (had && out_.empty()) {
      auto alive = alive_;
      handler_->OnUpstreamRequestDrained();
      if (!*alive) return;
    }
    MaybeDone();
  }

  void Read() {
    char buffer[kReadChunk];
    for (int i = 0; i < 16 && connection_ != nullptr && !paused_; ++i) {
      const ssize_t n = ::recv(connection_->fd(), buffer, sizeof buffer, 0);
      if (n > 0) {
        in_.append(buffer, static_cast<std::size_t>(n));
        if (!Parse()) return;
        continue;
      }
      if (n == 0) return OnEof();
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return Reset("upstream read failed: " + std::string(std::strerror(errno)));
    }
  }

  // False when this object must not be touched any more (finished or deleted).
  bool Parse() {
    auto alive = alive_;
    while (!head_done_) {
      http1::ResponseHead head;
      std::size_t consumed = 0;
      http1::ParseError error;
      const auto status = http1::ParseResponseHead(in_, worker_.options().limits, method_, &head, &consumed, &error);
      if (status == http1::ParseStatus::kIncomplete) return true;
      if (status == http1::ParseStatus::kError) {
        Reset("upstream protocol error: " + error.reason);
        return false;
      }
      if (head.status >= 100 && head.status < 200) {  // interim answers are not forwarded
        in_.erase(0, consumed);
        continue;
      }
      head_done_ = true;
      framing_ = head.framing;
      left_ = head.content_length;
      keep_alive_ = head.keep_alive;
      http2::HeaderList headers;
      headers.emplace_back(":status", std::to_string(head.status));
      for (const http1::Header& h : head.headers) {
        if (http1::IsHopByHop(head, h.name)) continue;
        headers.emplace_back(Lower(h.name), std::string(h.value));
      }
      if (framing_ == http1::BodyFraming::kContentLength) headers.emplace_back("content-length", std::to_string(left_));
      in_.erase(0, consumed);
      const bool end = framing_ == http1::BodyFraming::kNone ||
                       (framing_ == http1::BodyFraming::kContentLength && left_ == 0);
      if (end) response_done_ = true;
      handler_->OnUpstreamHeaders(std::move(headers), end);
      if (!*alive) return false;
      if (end) return MaybeDone();
    }
    while (!response_done_ && !in_.empty()) {
      std::string_view piece;
      std::size_t used = 0;
      if (framing_ == http1::BodyFraming::kContentLength) {
        used = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in_.size()));
        piece = std::string_view(in_).substr(0, used);
        left_ -= used;
        response_done_ = left_ == 0;
        delivering_ = used;
        Deliver(piece, response_done_);
      } else if (framing_ == http1::BodyFraming::kChunked) {
        std::vector<std::string_view> pieces;
        used = decoder_.Feed(in_, &pieces);
        if (decoder_.failed()) {
          Reset("upstream chunked body: " + decoder_.error());
          return false;
        }
        response_done_ = decoder_.done();
        delivering_ = used;
        for (std::size_t i = 0; i < pieces.size(); ++i) {
          Deliver(pieces[i], response_done_ && i + 1 == pieces.size());
          if (!*alive) return false;
        }
        if (response_done_ && pieces.empty()) Deliver({}, true);
      } else {
        used = in_.size();
        delivering_ = used;
        Deliver(in_, false);
      }
      if (!*alive) return false;
      in_.erase(0, used);
      delivering_ = 0;
    }
    return MaybeDone();
  }

  void Deliver(std::string_view data, bool end) {
    unconsumed_ += data.size();
    if (!paused_ && unconsumed_ >= kPauseAt && connection_ != nullptr) {
      // The client side has not taken this much yet: stop reading the upstream until it does.
      paused_ = true;
      connection_->SetReadable(false);
    }
    handler_->OnUpstreamData(data, end);
  }

  void OnEof() {
    if (head_done_ && framing_ == http1::BodyFraming::kUntilClose && !response_done_) {
      response_done_ = true;
      keep_alive_ = false;
      Finish(false);
      handler_->OnUpstreamData({}, true);
      return;
    }
    if (!response_done_) Reset("upstream connection closed before the end of the response");
  }

  // After the response ended: the connection goes back to the pool once the request is out too
  // (Flush calls this again when it is). False when the connection is no longer held.
  bool MaybeDone() {
    if (connection_ == nullptr) return false;
    if (!response_done_ || !request_ended_ || !out_.empty()) return true;
    Finish(keep_alive_ && in_.empty());
    return false;
  }

  void Finish(bool keep_alive) {
    if (connection_ != nullptr) {
      if (paused_) connection_->SetReadable(true);
      pool_->Release(connection_, keep_alive);
    }
    connection_ = nullptr;
  }

  void Reset(const std::string& detail) {
    const bool refused = !wrote_;
    Finish(false);
    if (response_done_) return;
    response_done_ = true;
    handler_->OnUpstreamReset(false, refused, detail);
  }

  Worker& worker_;
  std::shared_ptr<Worker::ClusterState> state_;
  upstream::ConnectionPool* pool_;
  std::string method_;
  Http2UpstreamHandler* handler_;
  upstream::UpstreamConnection* pending_ = nullptr;
  upstream::UpstreamConnection* connection_ = nullptr;
  bool queued_ = false;
  bool chunked_ = false;
  bool request_ended_ = false;
  bool wrote_ = false;
  std::string out_;
  std::string in_;
  bool head_done_ = false;
  bool response_done_ = false;
  bool keep_alive_ = false;
  bool paused_ = false;
  http1::BodyFraming framing_ = http1::BodyFraming::kNone;
  std::uint64_t left_ = 0;
  http1::ChunkedDecoder decoder_;
  std::size_t unconsumed_ = 0;
  std::size_t delivering_ = 0;  // bytes of in_ being delivered to the handler (erased after)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<Http2UpstreamRequest> StartHttp1Upstream(Worker& worker, std::shared_ptr<Worker::ClusterState> state,
                                                         std::size_t host_index, Http1UpstreamHead head,
                                                         Http2UpstreamHandler* handler) {
  auto bridge = std::make_unique<Http1Bridge>(worker, std::move(state), host_index, std::move(head), handler);
  bridge->Start();
  return bridge;
}

}  // namespace cmesh::proxy_core
