// Where tests find their inputs.
#pragma once

#include <optional>
#include <string>

namespace cmesh::testing {

// Istio's corpus (bookinfo, validation data): $CMESH_CORPUS_DIR, set by CMake to ../shared/corpus
// by default. Empty when the directory is missing; tests that need it then skip with a message
// naming the setting, and everything else runs.
std::optional<std::string> CorpusDir();

// The repository root ($CMESH_SOURCE_DIR), for the project's own test data and examples.
std::string SourceDir();

// build/bin, where the product binaries are ($CMESH_BIN_DIR).
std::string BinDir();

// The whole content of a file; fails the current test when it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace cmesh::testing

// Skips the calling test, saying how to point the suite at the corpus, when it is missing.
#define CMESH_REQUIRE_CORPUS(var)                                                              \
  auto var##_opt = ::cmesh::testing::CorpusDir();                                             \
  if (!var##_opt) {                                                                           \
    GTEST_SKIP() << "Istio corpus not found: set CMESH_CORPUS_DIR (default ../shared/corpus)"; \
  }                                                                                           \
  const std::string var = *var##_opt
