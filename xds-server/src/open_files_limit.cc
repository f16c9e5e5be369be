#include "cmesh/xds/open_files_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

namespace cmesh::xds {
namespace {

std::uint64_t ToU64(rlim_t value) {
  return value == RLIM_INFINITY ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(value);
}

// setrlimit refuses RLIM_INFINITY for RLIMIT_NOFILE: the real ceiling is fs.nr_open.
rlim_t NrOpen() {
  std::ifstream in("/proc/sys/fs/nr_open");
  unsigned long long value = 0;
  if (in >> value && value > 0) return static_cast<rlim_t>(value);
  return 1 << 20;  // the kernel's default nr_open
}

}  // namespace

OpenFilesLimit RaiseOpenFilesLimit() {
  OpenFilesLimit result;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    result.error = std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
    return result;
  }
  result.before = result.after = ToU64(limit.rlim_cur);
  result.hard = ToU64(limit.rlim_max);
  rlim_t target = limit.rlim_max == RLIM_INFINITY ? NrOpen() : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      result.error = std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
      return result;
    }
    result.after = ToU64(target);
  }
  result.ok = true;
  return result;
}

std::string Describe(const OpenFilesLimit& limit) {
  if (!limit.ok) return "open files limit not raised (" + limit.error + "), still " + std::to_string(limit.before);
  if (limit.after == limit.before) return "open files limit already at " + std::to_string(limit.after);
  return "open files limit raised from " + std::to_string(limit.before) + " to " + std::to_string(limit.after);
}

}  // namespace cmesh::xds
