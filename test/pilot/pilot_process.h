// Runs build/bin/cmesh-pilot (or another binary of build/bin) as a child process with its stdout and stderr in a temp file, so a
// test can wait for its log lines (the bound ports) and signal it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::testing {

class PilotProcess {
 public:
  // Starts BinDir()/cmesh-pilot with `args`; check started().
  explicit PilotProcess(const std::vector<std::string>& args);
  // Starts another of the project's binaries, BinDir()/`binary`.
  PilotProcess(const std::string& binary, const std::vector<std::string>& args);
  ~PilotProcess();  // kills the process if still running
  PilotProcess(const PilotProcess&) = delete;
  PilotProcess& operator=(const PilotProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string Log() const;
  // The port of the log line "<what> listening on ADDR:PORT", waiting up to `timeout`.
  std::optional<int> WaitForPort(const std::string& what, std::chrono::milliseconds timeout) const;
  // Sends `signal` and waits for the exit; the exit code, or nullopt on timeout or death by signal.
  std::optional<int> SignalAndWait(int signal, std::chrono::milliseconds timeout);
  // Waits for a process expected to exit by itself.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

struct HttpResult {
  int status = 0;  // 0 when no HTTP answer at all
  std::string body;
};

// Sends `raw` to host:port (an IPv4 or IPv6 literal) and parses the answer of the minimal HTTP
// server.
HttpResult RawHttp(int port, const std::string& raw, const std::string& host = "127.0.0.1");
HttpResult HttpGet(int port, const std::string& target, const std::string& host = "127.0.0.1");

}  // namespace cmesh::testing
