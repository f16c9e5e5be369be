// The config source of `cmesh-pilot --config-dir DIR`, wired end to end: a thread reads inotify
// events (DirWatcher) into the per-file ConfigDirectory; each real change (some object differs)
// is submitted to a Debouncer, whose push applies the merged config to the PushPipeline.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cmesh/model/diagnostic.h"
#include "cmesh/pipeline/config_directory.h"
#include "cmesh/pipeline/debouncer.h"
#include "cmesh/pipeline/dir_watcher.h"
#include "cmesh/pipeline/push_pipeline.h"

namespace cmesh::pipeline {

class ConfigDirSource {
 public:
  // Called (on the watch thread, or in Start) with every diagnostic of the directory after each
  // change: the place to log invalid objects by name and count them.
  using DiagnosticsCallback = std::function<void(const std::vector<model::Diagnostic>&)>;

  // Watches `dir` (before reading it, so no change is missed), loads it, applies it to
  // `pipeline` synchronously, then follows changes. nullptr (and `*error`) when the directory
  // cannot be watched. `pipeline` and `scheduler` must outlive the source.
  static std::unique_ptr<ConfigDirSource> Start(const std::string& dir, PushPipeline& pipeline, Scheduler& scheduler,
                                                DebounceOptions debounce, DiagnosticsCallback on_diagnostics,
                                                std::string* error);
  // Stops the watch thread; a push already running completes first.
  ~ConfigDirSource();
  ConfigDirSource(const ConfigDirSource&) = delete;
  ConfigDirSource& operator=(const ConfigDirSource&) = delete;

  std::shared_ptr<const model::ConfigSet> config() const;
  std::vector<model::Diagnostic> diagnostics() const;

 private:
  ConfigDirSource(const std::string& dir, PushPipeline& pipeline, Scheduler& scheduler, DebounceOptions debounce,
                  DiagnosticsCallback on_diagnostics, std::unique_ptr<DirWatcher> watcher);
  void Run();

  PushPipeline& pipeline_;
  DiagnosticsCallback on_diagnostics_;
  std::unique_ptr<DirWatcher> watcher_;
  mutable std::mutex mutex_;  // guards directory_ (the watch thread writes, pushes read)
  ConfigDirectory directory_;
  Debouncer debouncer_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cmesh::pipeline
