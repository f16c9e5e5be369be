// The gRPC face of the ADS server: envoy.service.discovery.v3.AggregatedDiscoveryService served
// through gRPC's callback API (no thread per stream) as a generic service, so the responses go out
// as the bytes wire_encoding.h builds from each resource's once-serialised Any instead of being
// marshalled again per stream. One reactor per stream owns a SotwSession or DeltaSession.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include <grpcpp/generic/async_generic_service.h>

#include "cmesh/xds/clock.h"
#include "cmesh/xds/session_registry.h"
#include "cmesh/xds/snapshot_cache.h"
#include "cmesh/xds/stream_session.h"

namespace cmesh::xds {

inline constexpr std::string_view kSotwMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
inline constexpr std::string_view kDeltaMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

class AdsStreamReactor;

class AdsService final : public grpc::CallbackGenericService {
 public:
  // Everything passed in must outlive the service. `callbacks` may be null; `clock` null means
  // the steady clock.
  AdsService(SnapshotSource& source, SessionRegistry& registry, GroupKeyFunction group_key,
             StreamCallbacks* callbacks = nullptr, const Clock* clock = nullptr);
  ~AdsService() override;
  AdsService(const AdsService&) = delete;
  AdsService& operator=(const AdsService&) = delete;

  // One reactor per stream on the two ADS methods; any other method gets UNIMPLEMENTED.
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override;

  // Ends every open stream with `status` and refuses new ones with it. Used at shutdown with
  // UNAVAILABLE, so clients reconnect (to another replica or to the restarted server) at once,
  // instead of waiting for grpc::Server's shutdown deadline to cancel them.
  void FinishAll(const grpc::Status& status);

  // A stream whose client does not read (a stuck or overwhelmed proxy) would otherwise keep
  // every response it is sent, and with them old snapshots' resources. Once more than `count`
  // responses wait behind the write in flight, the stream is cancelled and ended UNAVAILABLE, so
  // the client reconnects and is sent its current state once. Set before serving.
  static constexpr std::size_t kDefaultMaxQueuedResponses = 1024;
  void SetMaxQueuedResponses(std::size_t count) { max_queued_responses_ = count; }
  std::size_t max_queued_responses() const { return max_queued_responses_; }
  // Streams ended that way since the start.
  std::size_t overflowed_streams() const;

  std::size_t open_streams() const;
  // Waits until exactly `count` streams are open; false on timeout. The readiness signal for
  // tests and for a shutdown that wants to see the streams gone.
  bool WaitForOpenStreams(std::size_t count, std::chrono::milliseconds timeout) const;

 private:
  friend class AdsStreamReactor;
  // False when the service is finishing; the reactor then ends its stream with that status.
  bool Register(AdsStreamReactor* reactor, grpc::Status* refusal);
  void Unregister(AdsStreamReactor* reactor);
  // Asks the reaper thread to cancel the stream. Takes only a leaf lock, so a reactor may call it
  // while its session's lock is held (cancelling there could run gRPC's reactions inline).
  void RequestCancel(AdsStreamReactor* reactor);
  void ReapLoop();

  SnapshotSource& source_;
  SessionRegistry& registry_;
  GroupKeyFunction group_key_;
  StreamCallbacks* callbacks_;
  SteadyClock steady_clock_;
  const Clock& clock_;

  // Recursive: FinishAll ends streams while holding it, and gRPC may run a reactor's OnDone
  // (which unregisters) inline on the same thread.
  mutable std::recursive_mutex mutex_;
  mutable std::condition_variable_any changed_;
  std::set<AdsStreamReactor*> open_;
  bool finishing_ = false;
  grpc::Status finish_status_;

  std::size_t max_queued_responses_ = kDefaultMaxQueuedResponses;
  mutable std::mutex reap_mutex_;  // leaf lock
  std::condition_variable reap_changed_;
  std::vector<AdsStreamReactor*> to_cancel_;
  std::size_t overflowed_ = 0;
  bool stop_reaper_ = false;
  std::thread reaper_;  // last: started once everything above exists
};

}  // namespace cmesh::xds
