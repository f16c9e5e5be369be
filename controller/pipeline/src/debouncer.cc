#include "cmesh/pipeline/debouncer.h"

#include <algorithm>
#include <utility>

namespace cmesh::pipeline {

struct Debouncer::Core {
  Scheduler* scheduler;
  DebounceOptions options;
  Callback callback;
  mutable std::mutex mutex;
  ObjectKeySet changed;
  std::size_t events = 0;  // in the current burst
  SteadyTime first{};
  SteadyTime last{};
  // Serialises callbacks: a burst that completes while the previous callback still runs waits.
  std::mutex callback_mutex;
  bool stopped = false;  // under callback_mutex: the Debouncer is gone, call nothing

  SteadyTime Deadline() const { return std::min(last + options.quiet, first + options.max); }
};

Debouncer::Debouncer(Scheduler& scheduler, DebounceOptions options, Callback callback)
    : scheduler_(scheduler), core_(std::make_shared<Core>()) {
  core_->scheduler = &scheduler;
  core_->options = options;
  core_->callback = std::move(callback);
}

Debouncer::~Debouncer() {
  // Wait for a running callback; later timer tasks find the core expired.
  std::lock_guard lock(core_->callback_mutex);
  core_->stopped = true;
}

void Debouncer::Submit(ObjectKeySet changed) {
  SteadyTime deadline;
  {
    std::lock_guard lock(core_->mutex);
    const SteadyTime now = scheduler_.Now();
    if (core_->events == 0) core_->first = now;
    core_->last = now;
    ++core_->events;
    core_->changed.merge(changed);
    deadline = core_->Deadline();
  }
  // One task per event is simple and cheap (a burst has few events per quiet period); a task
  // that fires before the current deadline re-checks and does nothing.
  std::weak_ptr<Core> weak = core_;
  scheduler_.ScheduleAt(deadline, [weak] {
    if (auto core = weak.lock()) OnTimer(core);
  });
}

std::size_t Debouncer::pending() const {
  std::lock_guard lock(core_->mutex);
  return core_->events;
}

void Debouncer::OnTimer(const std::shared_ptr<Core>& core) {
  std::lock_guard callback_lock(core->callback_mutex);
  if (core->stopped) return;
  ObjectKeySet changed;
  SteadyTime first;
  {
    std::lock_guard lock(core->mutex);
    if (core->events == 0 || core->scheduler->Now() < core->Deadline()) return;
    changed.swap(core->changed);
    first = core->first;
    core->events = 0;
  }
  core->callback(std::move(changed), first);
}

}  // namespace cmesh::pipeline
