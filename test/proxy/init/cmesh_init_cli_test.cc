// The cmesh-init binary: exit codes and messages for bad flags, --dry-run, and a missing
// iptables. None of these can change any rule (no iptables tool is reachable, or --dry-run).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/proxy_init/process.h"
#include "netns.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::proxy_init {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Binary() { return cmesh::testing::BinDir() + "/cmesh-init"; }

ProcessResult RunInit(std::vector<std::string> args) {
  args.insert(args.begin(), Binary());
  return RunProcess(args, "");
}

TEST(CmeshInitCli, InvalidFlagsExit2NamingFlagAndValue) {
  ProcessResult port = RunInit({"--dry-run", "--exclude-inbound-ports", "15020,65536"});
  EXPECT_EQ(port.exit_code, 2);
  EXPECT_THAT(port.err, HasSubstr("--exclude-inbound-ports"));
  EXPECT_THAT(port.err, HasSubstr("\"65536\" is not a port"));
  EXPECT_EQ(port.out, "");

  ProcessResult cidr = RunInit({"--dry-run", "--include-outbound-ip-ranges=10.0.0.0/40"});
  EXPECT_EQ(cidr.exit_code, 2);
  EXPECT_THAT(cidr.err, HasSubstr("--include-outbound-ip-ranges"));
  EXPECT_THAT(cidr.err, HasSubstr("\"10.0.0.0/40\" is not a CIDR"));

  ProcessResult unknown = RunInit({"--dry-run", "--redirect-everything"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown flag \"--redirect-everything\""));
}

TEST(CmeshInitCli, HelpListsTheAnnotationFlags) {
  ProcessResult help = RunInit({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--inbound-ports", "--exclude-inbound-ports", "--outbound-ports",
                           "--exclude-outbound-ports", "--include-outbound-ip-ranges",
                           "--exclude-outbound-ip-ranges", "--proxy-uid", "--proxy-gid",
                           "--dry-run", "--cleanup"}) {
    EXPECT_THAT(help.out, HasSubstr(flag));
  }
}

TEST(CmeshInitCli, DryRunPrintsTheRestoreInput) {
  ProcessResult v4 = RunInit({"--dry-run", "--ipv6=off", "--exclude-outbound-ports=3306"});
  ASSERT_EQ(v4.exit_code, 0) << v4.err;
  EXPECT_THAT(v4.out, HasSubstr("# iptables-restore --noflush input (IPv4)\n"
                                "# at run time, jumps into these chains already present are "
                                "deleted first\n*nat\n:ISTIO_INBOUND - [0:0]\n"));
  EXPECT_THAT(v4.out, HasSubstr("\n-A ISTIO_OUTPUT -p tcp --dport 3306 -j RETURN\n"));
  EXPECT_THAT(v4.out, HasSubstr("\n-A ISTIO_OUTPUT -j ISTIO_REDIRECT\nCOMMIT\n"));
  EXPECT_THAT(v4.out, Not(HasSubstr("IPv6")));

  ProcessResult both = RunInit({"--dry-run", "--ipv6=on"});
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_THAT(both.out, HasSubstr("# ip6tables-restore --noflush input (IPv6)\n"));
  EXPECT_THAT(both.out, HasSubstr("\n-A ISTIO_OUTPUT -o lo -s ::6/128 -j RETURN\n"));

  ProcessResult cleanup = RunInit({"--dry-run", "--cleanup", "--ipv6=off"});
  ASSERT_EQ(cleanup.exit_code, 0) << cleanup.err;
  EXPECT_THAT(cleanup.out, HasSubstr("-D OUTPUT -p tcp -j ISTIO_OUTPUT\n"));
  EXPECT_THAT(cleanup.out, HasSubstr("-X ISTIO_OUTPUT\nCOMMIT\n"));
}

TEST(CmeshInitCli, MissingIptablesSaysToInstallIt) {
  // A PATH with no iptables tool in it: whatever the machine has, none can run.
  cmesh::testing::TempDir empty;
  ProcessResult result = RunProcess({"env", "PATH=" + empty.path(), Binary(), "--ipv6=off"}, "");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("iptables-save"));
  EXPECT_THAT(result.err, HasSubstr("found in PATH"));
  EXPECT_THAT(result.err, HasSubstr("install the iptables package"));
}

}  // namespace
}  // namespace cmesh::proxy_init
