// Glue between one transport stream, its state machine and the snapshot cache, still without
// gRPC: the transport calls OnRequest for each message read and Close when the stream ends, and
// writes what it is handed through ResponseSink. Requests (transport thread) and snapshots
// (publisher thread) are serialised by the session's mutex, so the state machine stays pure.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/xds/delta_stream.h"
#include "cmesh/xds/snapshot_cache.h"
#include "cmesh/xds/sotw_stream.h"

namespace cmesh::xds {

// Which snapshot group a proxy belongs to; supplied by the controller (the compiler decides what
// makes two proxies' outputs identical). The server never interprets node contents itself.
using GroupKeyFunction = std::function<std::string(const envoy::config::core::v3::Node&)>;

template <typename Response>
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Called with the session lock held, so batches from concurrent inputs keep their order.
  // Must only queue the responses (never block, never call back into the session).
  virtual void Send(std::vector<Response> responses) = 0;
};

// What /debug/syncz needs from any session, whatever its protocol variant.
class SessionInfo {
 public:
  virtual ~SessionInfo() = default;
  virtual StreamStatus Status() const = 0;
  // Empty until the first request carrying a node.
  virtual std::string GroupKey() const = 0;
};

template <typename Stream, typename Request, typename Response>
class StreamSession final : public SessionInfo {
 public:
  // `source`, `clock`, `callbacks` and `sink` must outlive the session.
  StreamSession(SnapshotSource& source, GroupKeyFunction group_key, const Clock& clock,
                StreamCallbacks* callbacks, ResponseSink<Response>& sink)
      : source_(source),
        group_key_fn_(std::move(group_key)),
        callbacks_(callbacks),
        sink_(sink),
        stream_(clock, callbacks) {}
  ~StreamSession() override { Close(); }
  StreamSession(const StreamSession&) = delete;
  StreamSession& operator=(const StreamSession&) = delete;

  void OnRequest(const Request& request) {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    std::vector<Response> out = stream_.OnRequest(request);
    if (!group_key_ && stream_.status().node) {
      // First node seen: join its group. Registration and the current snapshot come together,
      // so a snapshot published meanwhile is neither lost nor delivered out of order.
      group_key_ = group_key_fn_(*stream_.status().node);
      SnapshotPtr current;
      watch_ = source_.Watch(*group_key_, [this](const SnapshotPtr& snapshot) { OnSnapshot(snapshot); }, &current);
      if (current) Append(out, stream_.OnSnapshot(std::move(current)));
    }
    if (!out.empty()) sink_.Send(std::move(out));
  }

  // Stops watching; after it returns nothing more reaches the sink. Idempotent. Not to be called
  // from inside ResponseSink::Send.
  void Close() {
    WatchHandle watch;
    std::optional<std::string> joined;
    StreamStatus status;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      watch = std::move(watch_);
      joined = group_key_;
      if (joined && callbacks_) status = stream_.status();
    }
    // Outside our lock: Cancel waits for an in-flight delivery, which needs that lock to finish.
    watch.Cancel();
    if (joined && callbacks_) callbacks_->OnStreamClosed(status, *joined);
  }

  StreamStatus Status() const override {
    std::lock_guard lock(mutex_);
    return stream_.status();
  }
  std::string GroupKey() const override {
    std::lock_guard lock(mutex_);
    return group_key_.value_or("");
  }

 private:
  void OnSnapshot(const SnapshotPtr& snapshot) {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    std::vector<Response> out = stream_.OnSnapshot(snapshot);
    if (!out.empty()) sink_.Send(std::move(out));
  }
  static void Append(std::vector<Response>& to, std::vector<Response> from) {
    for (Response& response : from) to.push_back(std::move(response));
  }

  SnapshotSource& source_;
  GroupKeyFunction group_key_fn_;
  StreamCallbacks* callbacks_;
  ResponseSink<Response>& sink_;
  mutable std::mutex mutex_;
  Stream stream_;
  std::optional<std::string> group_key_;
  WatchHandle watch_;
  bool closed_ = false;
};

extern template class StreamSession<SotwStream, envoy::service::discovery::v3::DiscoveryRequest, SotwResponse>;
extern template class StreamSession<DeltaStream, envoy::service::discovery::v3::DeltaDiscoveryRequest,
                                    DeltaResponse>;

using SotwSession = StreamSession<SotwStream, envoy::service::discovery::v3::DiscoveryRequest, SotwResponse>;
using DeltaSession =
    StreamSession<DeltaStream, envoy::service::discovery::v3::DeltaDiscoveryRequest, DeltaResponse>;

}  // namespace cmesh::xds
