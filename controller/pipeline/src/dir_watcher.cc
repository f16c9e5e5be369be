#include "cmesh/pipeline/dir_watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace cmesh::pipeline {

namespace {

constexpr uint32_t kMask = IN_CREATE | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                           IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;


}  // namespace

const char* ToString(FileEvent::Kind kind) {
  switch (kind) {
    case FileEvent::Kind::kCreated: return "created";
    case FileEvent::Kind::kModified: return "modified";
    case FileEvent::Kind::kDeleted: return "deleted";
    case FileEvent::Kind::kMovedFrom: return "moved-from";
    case FileEvent::Kind::kMovedTo: return "moved-to";
    case FileEvent::Kind::kDirGone: return "dir-gone";
  }
  return "?";
}

bool IsConfigFileName(const std::string& path) {
  // The same rule as file_source::LoadPaths (extension, any case), so the watched set and the
  // loaded set agree.
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

std::unique_ptr<DirWatcher> DirWatcher::Open(const std::string& root, std::string* error) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    *error = "not a directory: " + root;
    return nullptr;
  }
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    *error = std::string("inotify_init1: ") + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<DirWatcher> watcher(new DirWatcher(fd));
  if (!watcher->AddTree(root, /*report=*/false, nullptr)) {
    *error = "inotify_add_watch " + root + ": " + std::strerror(errno);
    return nullptr;
  }
  return watcher;
}

DirWatcher::~DirWatcher() { close(fd_); }

bool DirWatcher::AddTree(const std::string& dir, bool report, std::vector<FileEvent>* events) {
  const int wd = inotify_add_watch(fd_, dir.c_str(), kMask);
  // A subdirectory that vanished meanwhile (or the watch limit) is skipped; errno tells the root's.
  if (wd < 0) return false;
  dirs_[wd] = dir;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string path = it->path().string();
    std::error_code type_ec;
    if (it->is_directory(type_ec)) {
      AddTree(path, report, events);
    } else if (report && events != nullptr && IsConfigFileName(path)) {
      events->push_back({FileEvent::Kind::kCreated, path});
    }
  }
  return true;
}

std::vector<FileEvent> DirWatcher::Poll(std::chrono::milliseconds timeout) {
  std::vector<FileEvent> events;
  pollfd pfd{fd_, POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return events;
  alignas(inotify_event) char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = read(fd_, buffer, sizeof(buffer));
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      auto dir = dirs_.find(event->wd);
      if (event->mask & IN_IGNORED) {
        if (dir != dirs_.end()) dirs_.erase(dir);
        continue;
      }
      if (dir == dirs_.end() || event->len == 0) continue;  // *_SELF: the parent reports it
      const std::string path = dir->second + "/" + event->name;
      if (event->mask & IN_ISDIR) {
        if (event->mask & (IN_CREATE | IN_MOVED_TO)) AddTree(path, /*report=*/true, &events);
        if (event->mask & (IN_DELETE | IN_MOVED_FROM)) {
          events.push_back({FileEvent::Kind::kDirGone, path});
          // A moved-away directory keeps its watch (and would report under a stale path).
          for (auto it = dirs_.begin(); it != dirs_.end();) {
            if (it->second == path || it->second.rfind(path + "/", 0) == 0) {
              inotify_rm_watch(fd_, it->first);
              it = dirs_.erase(it);
            } else {
              ++it;
            }
          }
        }
        continue;
      }
      if (!IsConfigFileName(path)) continue;
      if (event->mask & IN_CREATE) events.push_back({FileEvent::Kind::kCreated, path});
      if (event->mask & IN_CLOSE_WRITE) events.push_back({FileEvent::Kind::kModified, path});
      if (event->mask & IN_DELETE) events.push_back({FileEvent::Kind::kDeleted, path});
      if (event->mask & IN_MOVED_FROM) events.push_back({FileEvent::Kind::kMovedFrom, path});
      if (event->mask & IN_MOVED_TO) events.push_back({FileEvent::Kind::kMovedTo, path});
    }
  }
  return events;
}

}  // namespace cmesh::pipeline
