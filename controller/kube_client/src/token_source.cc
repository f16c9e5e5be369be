#include "cmesh/kube/token_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cmesh::kube {
namespace {

std::string Trim(std::string text) {
  const char* blanks = " \t\r\n";
  size_t begin = text.find_first_not_of(blanks);
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(blanks);
  return text.substr(begin, end - begin + 1);
}

}  // namespace

TokenSource TokenSource::Fixed(std::string token) {
  TokenSource source;
  source.token_ = Trim(std::move(token));
  return source;
}

TokenSource TokenSource::FromFile(std::string path, std::chrono::seconds recheck, Clock clock) {
  TokenSource source;
  source.path_ = std::move(path);
  source.recheck_ = recheck;
  source.clock_ = clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); });
  std::lock_guard<std::mutex> lock(source.mutex_);
  source.ReadLocked();
  return source;
}

TokenSource::TokenSource(TokenSource&& other) noexcept { *this = std::move(other); }

TokenSource& TokenSource::operator=(TokenSource&& other) noexcept {
  if (this == &other) return *this;
  std::scoped_lock lock(mutex_, other.mutex_);
  token_ = std::move(other.token_);
  path_ = std::move(other.path_);
  recheck_ = other.recheck_;
  clock_ = std::move(other.clock_);
  last_read_ = other.last_read_;
  mtime_ns_ = other.mtime_ns_;
  size_ = other.size_;
  error_ = std::move(other.error_);
  return *this;
}

std::string TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (path_.empty()) return token_;
  bool due = clock_() - last_read_ >= recheck_;
  if (!due) {
    // A stat is cheap next to a request; it catches a rotation as soon as it happens.
    struct stat info {};
    if (::stat(path_.c_str(), &info) == 0) {
      long long mtime_ns = static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec;
      due = mtime_ns != mtime_ns_ || static_cast<long long>(info.st_size) != size_;
    }
  }
  if (due) ReadLocked();
  return token_;
}

bool TokenSource::Reload() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (path_.empty()) return false;
  return ReadLocked();
}

std::string TokenSource::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

bool TokenSource::ReadLocked() {
  last_read_ = clock_();
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) {
    error_ = "cannot read token file " + path_ + ": " + std::strerror(errno);
    return false;
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    error_ = "cannot read token file " + path_ + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = Trim(text.str());
  mtime_ns_ = static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec;
  size_ = static_cast<long long>(info.st_size);
  if (token.empty()) {
    // A kubelet writing the file may leave it empty for a moment; keep the last good token.
    error_ = "token file " + path_ + " is empty";
    return false;
  }
  error_.clear();
  bool changed = token != token_;
  token_ = std::move(token);
  return changed;
}

}  // namespace cmesh::kube
