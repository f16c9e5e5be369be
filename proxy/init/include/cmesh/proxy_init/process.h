// Runs a program with input on stdin and collects its output (the iptables tools).
#pragma once

#include <string>
#include <vector>

namespace cmesh::proxy_init {

struct ProcessResult {
  int spawn_errno = 0;  // non-zero: the program could not be started (ENOENT: not found)
  int exit_code = -1;   // -1 when killed by a signal
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input);

}  // namespace cmesh::proxy_init
