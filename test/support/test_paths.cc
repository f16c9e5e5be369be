#include "test_paths.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cmesh::testing {

namespace {
std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
}  // namespace

std::optional<std::string> CorpusDir() {
  std::string dir = Env("CMESH_CORPUS_DIR", CMESH_DEFAULT_CORPUS_DIR);
  if (dir.empty() || !std::filesystem::is_directory(dir + "/istio")) return std::nullopt;
  return std::filesystem::canonical(dir).string();
}

std::string SourceDir() { return Env("CMESH_SOURCE_DIR", CMESH_DEFAULT_SOURCE_DIR); }

std::string BinDir() { return Env("CMESH_BIN_DIR", CMESH_DEFAULT_BIN_DIR); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace cmesh::testing
