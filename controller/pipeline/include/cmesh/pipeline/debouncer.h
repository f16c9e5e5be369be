// Merges bursts of config change events into one push.
//
// A push happens `quiet` after the last event of a burst, or at the latest `max` after its first
// event (so a steady stream of changes cannot starve the proxies). The callback receives the
// merged set of changed object keys and the time of the burst's first event (the start of the
// convergence time a proxy's ACK ends).
//
// Time comes from an injected Scheduler, so tests drive it by hand without sleeping.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "cmesh/pipeline/object_key.h"
#include "cmesh/pipeline/scheduler.h"

namespace cmesh::pipeline {

struct DebounceOptions {
  std::chrono::milliseconds quiet{100};
  std::chrono::milliseconds max{1000};
};

class Debouncer {
 public:
  using Callback = std::function<void(ObjectKeySet changed, SteadyTime first_event)>;

  // `scheduler` must outlive the Debouncer; tasks it runs after the Debouncer is gone do nothing.
  Debouncer(Scheduler& scheduler, DebounceOptions options, Callback callback);
  ~Debouncer();
  Debouncer(const Debouncer&) = delete;
  Debouncer& operator=(const Debouncer&) = delete;

  // Thread-safe. An empty set still counts as an event (e.g. "something changed, unknown what").
  void Submit(ObjectKeySet changed);

  // Events waiting for their push.
  std::size_t pending() const;

 private:
  struct Core;
  static void OnTimer(const std::shared_ptr<Core>& core);
  Scheduler& scheduler_;
  std::shared_ptr<Core> core_;
};

}  // namespace cmesh::pipeline
