// The bearer token of a request: fixed, or read from a file that the kubelet rotates (projected
// service-account tokens are replaced about every hour, well before they expire).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace cmesh::kube {

class TokenSource {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // No token: the client authenticates by certificate, or not at all.
  TokenSource() = default;
  static TokenSource Fixed(std::string token);
  // Re-read when the file's modification time or size changes, and at least every `recheck`
  // (a rotation that keeps both is still picked up); `clock` is for tests.
  static TokenSource FromFile(std::string path, std::chrono::seconds recheck = std::chrono::minutes(1),
                              Clock clock = {});

  TokenSource(TokenSource&& other) noexcept;
  TokenSource& operator=(TokenSource&& other) noexcept;

  // The current token (empty when none). A file that cannot be read keeps the last good token.
  std::string Token();
  // Re-reads the file now (after a 401). True when the token changed, so a retry may succeed.
  bool Reload();
  // The last read error, or empty.
  std::string error() const;
  bool from_file() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  bool ReadLocked();  // true when the token changed

  mutable std::mutex mutex_;
  std::string token_;
  std::string path_;
  std::chrono::seconds recheck_{60};
  Clock clock_;
  std::chrono::steady_clock::time_point last_read_{};
  long long mtime_ns_ = -1;
  long long size_ = -1;
  std::string error_;
};

}  // namespace cmesh::kube
