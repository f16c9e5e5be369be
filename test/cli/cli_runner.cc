#include "cli_runner.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_paths.h"

namespace cmesh::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

std::string ScenarioFile(const std::string& name) {
  const std::string root = SourceDir();
  return root + "/test/data/scenarios/" + name;
}

CliResult RunCmeshctl(const std::vector<std::string>& args, const std::string& stdin_text) {
  CliResult result;
  const std::string binary = BinDir() + "/cmeshctl";
  EXPECT_TRUE(std::filesystem::exists(binary)) << binary << " is missing; build the cmeshctl target";
  const auto tmp = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  const std::string in_path = (tmp / ("cmeshctl-in-" + tag)).string();
  const std::string err_path = (tmp / ("cmeshctl-err-" + tag)).string();
  std::ofstream(in_path, std::ios::binary) << stdin_text;
  std::string command = Quote(binary);
  for (const auto& a : args) command += " " + Quote(a);
  command += " <" + Quote(in_path) + " 2>" + Quote(err_path);
  FILE* pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << command;
  if (pipe) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.out.append(buf, n);
    int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  result.err = Slurp(err_path);
  std::filesystem::remove(in_path);
  std::filesystem::remove(err_path);
  return result;
}

}  // namespace cmesh::testing
