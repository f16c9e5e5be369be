// cmeshctl's subcommands. Each returns the process exit code: 0 success, 1 configuration errors
// (or a failed operation), 2 usage errors. Output goes to `out`, messages to `err`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace cmesh::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int RunValidate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunCompile(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunSimulate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cmesh::cli
