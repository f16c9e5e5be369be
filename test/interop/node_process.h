// A Node.js script run as a child process of a test: commands go to its stdin, answers come back
// as lines on its stdout, and its stderr (gRPC's trace) goes to a temp file for failure reports.
// The process is killed when the object goes away, on every path out of a test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cmesh::testing {

// The `node` found on PATH, nullopt when there is none.
std::optional<std::string> FindNode();

class NodeProcess {
 public:
  using Env = std::vector<std::pair<std::string, std::string>>;

  // Runs `node script args...` with `env` added to (or replacing in) this process's environment.
  // Check started(); error() says why not.
  NodeProcess(const std::string& script, const std::vector<std::string>& args, const Env& env);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  bool started() const { return pid_ > 0; }
  const std::string& error() const { return error_; }

  // Writes `line` and a newline to the script's stdin; false when the script is gone.
  bool SendLine(const std::string& line);
  // The next line of the script's stdout, nullopt on timeout or end of output.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Everything the script wrote to stderr so far.
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;  // stdout read but not yet returned as a line
  std::string log_path_;
  std::string error_;
};

}  // namespace cmesh::testing
