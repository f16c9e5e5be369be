// cmeshctl's command surface: help, version, usage errors (exit 2) on stderr.
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace cmesh::testing {
namespace {

TEST(CliUsageTest, TopLevelHelpListsCommands) {
  auto r = RunCmeshctl({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* command : {"validate", "compile", "simulate", "version"}) {
    EXPECT_NE(r.out.find(command), std::string::npos) << command;
  }
}

TEST(CliUsageTest, VersionPrintsTheProjectVersion) {
  auto r = RunCmeshctl({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("cmeshctl ", 0), 0u) << r.out;
}

TEST(CliUsageTest, NoCommandOrUnknownCommandIsAUsageError) {
  auto none = RunCmeshctl({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(none.out.empty());
  EXPECT_NE(none.err.find("Usage"), std::string::npos);
  auto unknown = RunCmeshctl({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command \"frobnicate\""), std::string::npos);
}

TEST(CliUsageTest, EveryCommandHasHelp) {
  for (const char* command : {"validate", "compile", "simulate"}) {
    auto r = RunCmeshctl({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find(std::string("Usage: cmeshctl ") + command), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
}

TEST(CliUsageTest, UnknownOptionsAndMissingValuesAreUsageErrors) {
  auto unknown = RunCmeshctl({"validate", "--bogus"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown option --bogus"), std::string::npos);
  auto missing = RunCmeshctl({"validate", "-f"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("needs a value"), std::string::npos);
}

}  // namespace
}  // namespace cmesh::testing
