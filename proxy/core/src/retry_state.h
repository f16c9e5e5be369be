// What one exchange of a DownstreamConnection holds of its cluster's shared resources, so each
// is given back exactly once: the circuit breakers' pending / request / retry slots, a wait in
// a pool's queue, and the route idle timeout's bookkeeping. Used by downstream_upstream.cc.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "cmesh/event/event_loop.h"
#include "cmesh/upstream/cluster_runtime.h"

namespace cmesh::proxy_core {

struct RetryState {
  std::shared_ptr<upstream::ClusterRuntime> runtime;  // the cluster of this exchange
  bool pending = false;     // counted in runtime->pending (waiting for a connection)
  bool active = false;      // counted in runtime->requests (on a connection)
  bool retrying = false;    // counted in runtime->retries (from the first retry to the end)
  bool queued = false;      // waiting in the pool's queue (max_connections reached)

  // Route idle timeout: armed when the exchange goes upstream; bytes either way push it back.
  event::TimerId idle_timer = 0;
  event::Clock::time_point last_activity{};
  std::array<std::uint64_t, 4> progress{};  // what the connection manager moved, at the last check

  void ReleasePending() {
    if (pending) upstream::Release(runtime->pending);
    pending = false;
  }
  void ReleaseActive() {
    if (active) upstream::Release(runtime->requests);
    active = false;
  }
  // The end of the exchange: everything it still holds.
  void ReleaseAll() {
    if (runtime) {
      ReleasePending();
      ReleaseActive();
      if (retrying) upstream::Release(runtime->retries);
    }
    pending = active = retrying = queued = false;
    runtime.reset();
  }
};

}  // namespace cmesh::proxy_core
