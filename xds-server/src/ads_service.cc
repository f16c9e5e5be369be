#include "cmesh/xds/ads_service.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include "cmesh/xds/wire_encoding.h"

namespace cmesh::xds {

// What the service needs of any stream, whatever its protocol variant.
class AdsStreamReactor : public grpc::ServerGenericBidiReactor {
 public:
  // Ends the stream with `status` (once; later calls and a failed read or write do nothing more).
  virtual void EndStream(grpc::Status status) = 0;
  // Cancels the call (a write stuck on a client that does not read then fails).
  virtual void Cancel() = 0;

 protected:
  // The service's registration is private to this (friend) base, not to every stream type.
  static bool Register(AdsService& service, AdsStreamReactor* reactor, grpc::Status* refusal) {
    return service.Register(reactor, refusal);
  }
  static void Unregister(AdsService& service, AdsStreamReactor* reactor) { service.Unregister(reactor); }
  static void RequestCancel(AdsService& service, AdsStreamReactor* reactor) { service.RequestCancel(reactor); }
  static std::size_t MaxQueued(const AdsService& service) { return service.max_queued_responses(); }
};

namespace {

// The encoded response as gRPC slices, without copying: the headers' slices own their strings,
// and each large resource value is a slice over the resource's own bytes, holding a reference
// to the resource until gRPC has sent it. Every stream sending a resource shares those bytes.
template <typename Response>
grpc::ByteBuffer ToByteBuffer(const Response& response) {
  std::vector<WirePiece> pieces = EncodePieces(response);
  std::vector<grpc::Slice> slices;
  slices.reserve(pieces.size());
  for (WirePiece& piece : pieces) {
    if (piece.owner) {
      auto* owner = new ResourcePtr(std::move(piece.owner));
      slices.emplace_back(
          const_cast<char*>(piece.shared.data()), piece.shared.size(),
          [](void* p) { delete static_cast<ResourcePtr*>(p); }, owner);
    } else {
      auto* owned = new std::string(std::move(piece.owned));
      slices.emplace_back(
          owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
    }
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

// One stream. Reads go request by request into the session; the session's responses are queued
// here and written one at a time (the callback API allows a single write in flight). Owned by
// gRPC: it deletes itself in OnDone, after every other reaction has run.
template <typename Session, typename Request, typename Response>
class StreamReactor final : public AdsStreamReactor, private ResponseSink<Response> {
 public:
  StreamReactor(AdsService& service, grpc::CallbackServerContext* context, SnapshotSource& source,
                SessionRegistry& registry, const GroupKeyFunction& group_key, const Clock& clock,
                StreamCallbacks* callbacks, std::string_view method)
      : service_(service),
        context_(context),
        registry_(registry),
        method_(method),
        session_(std::make_shared<Session>(source, group_key, clock, callbacks, AsSink())) {
    registry_id_ = registry_.Add(session_);
    grpc::Status refusal;
    if (!Register(service_, this, &refusal)) {
      EndStream(std::move(refusal));
      return;
    }
    StartRead(&read_buffer_);
  }

  void EndStream(grpc::Status status) override {
    {
      std::lock_guard lock(mutex_);
      if (finishing_) return;
      finishing_ = true;
      queue_.clear();
      // Finish waits for the write in flight, so the client gets what was already on its way;
      // OnWriteDone finishes (a stuck write is cancelled by the server's shutdown deadline).
      if (writing_) {
        pending_finish_ = std::move(status);
        return;
      }
    }
    Finish(std::move(status));
  }

  void Cancel() override { context_->TryCancel(); }

 private:
  ResponseSink<Response>& AsSink() { return *this; }

  void OnReadDone(bool ok) override {
    // Not ok: the client half-closed, went away, or the call was cancelled (shutdown included).
    if (!ok) {
      EndStream(grpc::Status::OK);
      return;
    }
    Request request;
    bool parsed = false;
    {
      grpc::ProtoBufferReader reader(&read_buffer_);
      parsed = reader.status().ok() && request.ParseFromZeroCopyStream(&reader);
    }
    read_buffer_.Clear();
    if (!parsed) {
      EndStream(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "malformed " + std::string(Request::descriptor()->full_name()) + " on " + method_));
      return;
    }
    session_->OnRequest(request);
    {
      std::lock_guard lock(mutex_);
      if (finishing_) return;
    }
    StartRead(&read_buffer_);
  }

  void OnWriteDone(bool ok) override {
    std::optional<grpc::Status> finish;
    bool start_write = false;
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      // Written: drop the response's slices now rather than when the next one is sent, so an
      // idle stream holds no response (nor the resources its slices pin).
      in_flight_.Clear();
      if (!ok && !finishing_) {
        // The call is broken (client gone, call cancelled); the pending read fails too.
        finishing_ = true;
        queue_.clear();
        pending_finish_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
      }
      if (finishing_) {
        finish = std::move(pending_finish_);
        pending_finish_.reset();
      } else if (!queue_.empty()) {
        writing_ = start_write = true;
        in_flight_ = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (finish) {
      Finish(std::move(*finish));
    } else if (start_write) {
      StartWrite(&in_flight_);
    }
  }

  void OnCancel() override { EndStream(grpc::Status::CANCELLED); }

  void OnDone() override {
    // Stop the snapshot watch first: after Close no delivery reaches Send any more.
    session_->Close();
    registry_.Remove(registry_id_);
    Unregister(service_, this);
    delete this;
  }

  // ResponseSink: called with the session's lock held; only queues, and starts a write when none
  // is in flight.
  void Send(std::vector<Response> responses) override {
    {
      std::lock_guard lock(mutex_);
      if (finishing_) return;
      for (const Response& response : responses) queue_.push_back(ToByteBuffer(response));
      if (writing_ && queue_.size() > MaxQueued(service_)) {
        // The client is not reading. End the stream (the write in flight fails once the call is
        // cancelled, and OnWriteDone finishes); it reconnects and gets its current state.
        finishing_ = true;
        queue_.clear();
        pending_finish_ = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                       "client is not reading its xDS responses; reconnect to resynchronise");
        RequestCancel(service_, this);
        return;
      }
      if (writing_ || queue_.empty()) return;
      writing_ = true;
      in_flight_ = std::move(queue_.front());
      queue_.pop_front();
    }
    // Outside our lock: gRPC may run OnWriteDone inline, which takes it.
    StartWrite(&in_flight_);
  }

  AdsService& service_;
  grpc::CallbackServerContext* context_;
  SessionRegistry& registry_;
  std::string method_;
  std::shared_ptr<Session> session_;
  std::uint64_t registry_id_ = 0;
  grpc::ByteBuffer read_buffer_;

  std::mutex mutex_;
  std::deque<grpc::ByteBuffer> queue_;
  grpc::ByteBuffer in_flight_;  // touched only by the thread that set writing_
  bool writing_ = false;
  bool finishing_ = false;
  std::optional<grpc::Status> pending_finish_;
};

using SotwReactor = StreamReactor<SotwSession, envoy::service::discovery::v3::DiscoveryRequest, SotwResponse>;
using DeltaReactor =
    StreamReactor<DeltaSession, envoy::service::discovery::v3::DeltaDiscoveryRequest, DeltaResponse>;

}  // namespace

AdsService::AdsService(SnapshotSource& source, SessionRegistry& registry, GroupKeyFunction group_key,
                       StreamCallbacks* callbacks, const Clock* clock)
    : source_(source),
      registry_(registry),
      group_key_(std::move(group_key)),
      callbacks_(callbacks),
      clock_(clock ? *clock : steady_clock_),
      reaper_([this] { ReapLoop(); }) {}

AdsService::~AdsService() {
  {
    std::lock_guard lock(reap_mutex_);
    stop_reaper_ = true;
  }
  reap_changed_.notify_all();
  reaper_.join();
}

void AdsService::RequestCancel(AdsStreamReactor* reactor) {
  {
    std::lock_guard lock(reap_mutex_);
    to_cancel_.push_back(reactor);
    ++overflowed_;
  }
  reap_changed_.notify_all();
}

std::size_t AdsService::overflowed_streams() const {
  std::lock_guard lock(reap_mutex_);
  return overflowed_;
}

void AdsService::ReapLoop() {
  std::unique_lock lock(reap_mutex_);
  while (true) {
    reap_changed_.wait(lock, [&] { return stop_reaper_ || !to_cancel_.empty(); });
    if (stop_reaper_) return;
    std::vector<AdsStreamReactor*> batch = std::exchange(to_cancel_, {});
    lock.unlock();
    {
      // Registered reactors are alive while the service lock is held (OnDone unregisters first);
      // an inline OnDone re-enters this recursive lock on the same thread.
      std::lock_guard open_lock(mutex_);
      for (AdsStreamReactor* reactor : batch) {
        if (open_.count(reactor)) reactor->Cancel();
      }
    }
    lock.lock();
  }
}

grpc::ServerGenericBidiReactor* AdsService::CreateReactor(grpc::GenericCallbackServerContext* context) {
  if (context->method() == kSotwMethod) {
    return new SotwReactor(*this, context, source_, registry_, group_key_, clock_, callbacks_, context->method());
  }
  if (context->method() == kDeltaMethod) {
    return new DeltaReactor(*this, context, source_, registry_, group_key_, clock_, callbacks_, context->method());
  }
  return grpc::CallbackGenericService::CreateReactor(context);
}

bool AdsService::Register(AdsStreamReactor* reactor, grpc::Status* refusal) {
  std::lock_guard lock(mutex_);
  if (finishing_) {
    *refusal = finish_status_;
    return false;
  }
  open_.insert(reactor);
  changed_.notify_all();
  return true;
}

void AdsService::Unregister(AdsStreamReactor* reactor) {
  std::lock_guard lock(mutex_);
  open_.erase(reactor);
  changed_.notify_all();
}

void AdsService::FinishAll(const grpc::Status& status) {
  std::lock_guard lock(mutex_);
  finishing_ = true;
  finish_status_ = status;
  // Our lock keeps every registered reactor alive (OnDone unregisters before deleting itself);
  // the copy survives an inline OnDone erasing from open_.
  const std::set<AdsStreamReactor*> open = open_;
  for (AdsStreamReactor* reactor : open) {
    if (open_.count(reactor)) reactor->EndStream(status);
  }
}

std::size_t AdsService::open_streams() const {
  std::lock_guard lock(mutex_);
  return open_.size();
}

bool AdsService::WaitForOpenStreams(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return open_.size() == count; });
}

}  // namespace cmesh::xds
