// Helpers of the benchmark smoke tests: run a command and read cmesh-xds-load's JSON line.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace cmesh::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string output;  // stdout (stderr passes through to the test's log)
};

// Runs `command` with /bin/sh and captures its standard output.
CommandResult RunCommand(const std::string& command);

// The last line of `output` that starts with '{', parsed; null when there is none or it does not
// parse.
nlohmann::json LastJsonLine(const std::string& output);

// Single-quotes `text` for /bin/sh.
std::string ShellQuote(const std::string& text);

}  // namespace cmesh::testing
