// Watches a config directory tree with inotify and reports changes of its config files
// (*.yaml, *.yml, *.json). Subdirectories are watched too, including ones created later.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cmesh::pipeline {

struct FileEvent {
  enum class Kind {
    kCreated,    // a new file appeared (its content may still be written: expect kModified)
    kModified,   // a file was written and closed
    kDeleted,    // a file was removed
    kMovedFrom,  // renamed away (out of the tree or to another name): gone under this path
    kMovedTo,    // renamed into place (the usual atomic replace): complete content
    kDirGone,    // a directory was removed or moved away: every file under `path` is gone
  };
  Kind kind;
  std::string path;  // absolute, or relative to the current directory as the root was given
  friend bool operator==(const FileEvent&, const FileEvent&) = default;
};

const char* ToString(FileEvent::Kind kind);

// True for the file names the config loader reads: *.yaml, *.yml, *.json (any case).
bool IsConfigFileName(const std::string& path);

class DirWatcher {
 public:
  // nullptr (and `*error` says why) when inotify or the root cannot be watched.
  static std::unique_ptr<DirWatcher> Open(const std::string& root, std::string* error);
  ~DirWatcher();
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Waits up to `timeout` for events and returns those available (empty on timeout). Files
  // found in a directory that appeared (created before its watch was in place) are reported as
  // kCreated. Not thread-safe: one reader.
  std::vector<FileEvent> Poll(std::chrono::milliseconds timeout);

  // The descriptor to wait on in an event loop (readable when Poll has events).
  int fd() const { return fd_; }
  std::size_t watched_directories() const { return dirs_.size(); }

 private:
  explicit DirWatcher(int fd) : fd_(fd) {}
  // Watches `dir` and its subdirectories; appends kCreated for config files found when `report`.
  // False when `dir` itself cannot be watched.
  bool AddTree(const std::string& dir, bool report, std::vector<FileEvent>* events);

  int fd_;
  std::map<int, std::string> dirs_;  // watch descriptor → directory path
};

}  // namespace cmesh::pipeline
