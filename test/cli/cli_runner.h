// Runs build/bin/cmeshctl as a subprocess and captures its exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace cmesh::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `stdin_text` is fed to the process's standard input.
CliResult RunCmeshctl(const std::vector<std::string>& args, const std::string& stdin_text = "");

// Paths of the project's own scenario files (test/data/scenarios/NAME).
std::string ScenarioFile(const std::string& name);

// The bookinfo productpage sidecar's node id, matching test/data/scenarios/bookinfo-pods.yaml.
inline constexpr char kProductpageNode[] =
    "sidecar~10.1.0.10~productpage-v1-7d9f6c4b8-abcde.default~default.svc.cluster.local";

}  // namespace cmesh::testing
