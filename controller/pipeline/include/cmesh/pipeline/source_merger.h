// Joins the config sources of cmesh-pilot (a watched directory, the Kubernetes API, or both) into
// the one config the push pipeline compiles.
//
// Each source registers a function that returns its current objects; a source that saw a real
// change calls Changed, which is debounced, and the push then merges every source's objects (in
// registration order) and applies the merge to the PushPipeline. With one source its config is
// passed through without a copy.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cmesh/model/config_set.h"
#include "cmesh/pipeline/debouncer.h"
#include "cmesh/pipeline/object_key.h"
#include "cmesh/pipeline/push_pipeline.h"
#include "cmesh/pipeline/scheduler.h"

namespace cmesh::pipeline {

class SourceMerger {
 public:
  using ConfigFunction = std::function<std::shared_ptr<const model::ConfigSet>()>;

  // `pipeline` and `scheduler` must outlive the merger.
  SourceMerger(PushPipeline& pipeline, Scheduler& scheduler, DebounceOptions debounce);
  SourceMerger(const SourceMerger&) = delete;
  SourceMerger& operator=(const SourceMerger&) = delete;

  // Adds a source (before its first Changed/PushNow). `config` must be thread-safe: it is
  // called on the push's thread.
  void AddSource(std::string name, ConfigFunction config);

  // A source's objects `changed` (keys for logs and the pipeline). Debounced; thread-safe.
  void Changed(ObjectKeySet changed);

  // Merges and pushes at once, without waiting for the debouncer (a source's first config).
  void PushNow(const ObjectKeySet& changed);

  // The merge that was last pushed (empty before the first push).
  std::shared_ptr<const model::ConfigSet> config() const;

 private:
  void Push(const ObjectKeySet& changed, SteadyTime first_event);

  PushPipeline& pipeline_;
  Scheduler& scheduler_;
  mutable std::mutex mutex_;  // guards sources_ and pushed_
  std::vector<std::pair<std::string, ConfigFunction>> sources_;
  std::shared_ptr<const model::ConfigSet> pushed_;
  std::mutex push_mutex_;  // one merge-and-apply at a time, so pushes never reorder
  Debouncer debouncer_;    // last: destroyed first, so no push runs on a half-destroyed merger
};

}  // namespace cmesh::pipeline
