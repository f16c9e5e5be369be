#include "cmesh/pipeline/config_dir_source.h"

#include <utility>

namespace cmesh::pipeline {

std::unique_ptr<ConfigDirSource> ConfigDirSource::Start(const std::string& dir, SourceMerger& merger,
                                                        DiagnosticsCallback on_diagnostics, std::string* error) {
  std::unique_ptr<DirWatcher> watcher = DirWatcher::Open(dir, error);
  if (watcher == nullptr) return nullptr;
  std::unique_ptr<ConfigDirSource> source(
      new ConfigDirSource(dir, merger, std::move(on_diagnostics), std::move(watcher)));
  ObjectKeySet changed;
  {
    std::lock_guard lock(source->mutex_);
    changed = source->directory_.LoadAll();
    if (source->on_diagnostics_) source->on_diagnostics_(source->directory_.diagnostics());
  }
  merger.AddSource("config-dir " + dir, [raw = source.get()] { return raw->config(); });
  // The first config is served at once, without waiting for the debouncer.
  merger.PushNow(changed);
  source->thread_ = std::thread([raw = source.get()] { raw->Run(); });
  return source;
}

ConfigDirSource::ConfigDirSource(const std::string& dir, SourceMerger& merger, DiagnosticsCallback on_diagnostics,
                                 std::unique_ptr<DirWatcher> watcher)
    : merger_(merger), on_diagnostics_(std::move(on_diagnostics)), watcher_(std::move(watcher)), directory_(dir) {}

ConfigDirSource::~ConfigDirSource() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const model::ConfigSet> ConfigDirSource::config() const {
  std::lock_guard lock(mutex_);
  return directory_.config();
}

std::vector<model::Diagnostic> ConfigDirSource::diagnostics() const {
  std::lock_guard lock(mutex_);
  return directory_.diagnostics();
}

void ConfigDirSource::Run() {
  // A short poll timeout only bounds how long stopping takes; events wake the poll at once.
  while (!stopping_) {
    std::vector<FileEvent> events = watcher_->Poll(std::chrono::milliseconds(100));
    if (events.empty()) continue;
    ObjectKeySet changed;
    {
      std::lock_guard lock(mutex_);
      changed = directory_.Apply(events);
      if (on_diagnostics_) on_diagnostics_(directory_.diagnostics());
    }
    // Writes that change no object (same content, comments) cause no push.
    if (!changed.empty()) merger_.Changed(std::move(changed));
  }
}

}  // namespace cmesh::pipeline
