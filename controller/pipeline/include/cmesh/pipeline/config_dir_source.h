// The config source of `cmesh-pilot --config-dir DIR`, wired end to end: a thread reads inotify
// events (DirWatcher) into the per-file ConfigDirectory; each real change (some object differs)
// is reported to the SourceMerger, which debounces it and pushes the merge of every source.
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
#include "cmesh/pipeline/dir_watcher.h"
#include "cmesh/pipeline/source_merger.h"

namespace cmesh::pipeline {

class ConfigDirSource {
 public:
  // Called (on the watch thread, or in Start) with every diagnostic of the directory after each
  // change: the place to log invalid objects by name and count them.
  using DiagnosticsCallback = std::function<void(const std::vector<model::Diagnostic>&)>;

  // Watches `dir` (before reading it, so no change is missed), loads it, adds itself to `merger`
  // and pushes at once, then follows changes. nullptr (and `*error`) when the directory cannot
  // be watched. `merger` must outlive the source.
  static std::unique_ptr<ConfigDirSource> Start(const std::string& dir, SourceMerger& merger,
                                                DiagnosticsCallback on_diagnostics, std::string* error);
  // Stops the watch thread; a push already running completes first.
  ~ConfigDirSource();
  ConfigDirSource(const ConfigDirSource&) = delete;
  ConfigDirSource& operator=(const ConfigDirSource&) = delete;

  std::shared_ptr<const model::ConfigSet> config() const;
  std::vector<model::Diagnostic> diagnostics() const;

 private:
  ConfigDirSource(const std::string& dir, SourceMerger& merger, DiagnosticsCallback on_diagnostics,
                  std::unique_ptr<DirWatcher> watcher);
  void Run();

  SourceMerger& merger_;
  DiagnosticsCallback on_diagnostics_;
  std::unique_ptr<DirWatcher> watcher_;
  mutable std::mutex mutex_;  // guards directory_ (the watch thread writes, pushes read)
  ConfigDirectory directory_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cmesh::pipeline
