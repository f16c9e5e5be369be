#include "cmesh/pipeline/source_merger.h"

#include <utility>

namespace cmesh::pipeline {

SourceMerger::SourceMerger(PushPipeline& pipeline, Scheduler& scheduler, DebounceOptions debounce)
    : pipeline_(pipeline),
      scheduler_(scheduler),
      pushed_(std::make_shared<const model::ConfigSet>()),
      debouncer_(scheduler, debounce,
                 [this](ObjectKeySet changed, SteadyTime first_event) { Push(changed, first_event); }) {}

void SourceMerger::AddSource(std::string name, ConfigFunction config) {
  std::lock_guard lock(mutex_);
  sources_.emplace_back(std::move(name), std::move(config));
}

void SourceMerger::Changed(ObjectKeySet changed) { debouncer_.Submit(std::move(changed)); }

void SourceMerger::PushNow(const ObjectKeySet& changed) { Push(changed, scheduler_.Now()); }

std::shared_ptr<const model::ConfigSet> SourceMerger::config() const {
  std::lock_guard lock(mutex_);
  return pushed_;
}

void SourceMerger::Push(const ObjectKeySet& changed, SteadyTime first_event) {
  std::lock_guard push_lock(push_mutex_);
  std::vector<ConfigFunction> functions;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, function] : sources_) functions.push_back(function);
  }
  std::shared_ptr<const model::ConfigSet> merged;
  if (functions.size() == 1) {
    merged = functions.front()();
  } else {
    model::ConfigSet all;
    for (const auto& function : functions) {
      if (auto config = function()) all.Merge(*config);
    }
    merged = std::make_shared<const model::ConfigSet>(std::move(all));
  }
  if (merged == nullptr) merged = std::make_shared<const model::ConfigSet>();
  {
    std::lock_guard lock(mutex_);
    pushed_ = merged;
  }
  pipeline_.ApplyConfig(std::move(merged), changed, first_event);
}

}  // namespace cmesh::pipeline
