// ApplyCapture / CleanupCapture against a scripted runner: which tools run, with what input, and
// how their failures are worded.
#include "cmesh/proxy_init/iptables.h"

#include <cerrno>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/proxy_init/nat_rules.h"

namespace cmesh::proxy_init {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Call {
  std::string command;  // argv joined by spaces
  std::string input;
};

// Answers by program name; a program with no answer is "not found".
class FakeTools {
 public:
  void Answer(const std::string& program, ProcessResult result) { answers_[program] = result; }
  Runner runner() {
    return [this](const std::vector<std::string>& argv, const std::string& input) {
      std::string command;
      for (const auto& word : argv) command += (command.empty() ? "" : " ") + word;
      calls.push_back({command, input});
      auto answer = answers_.find(argv[0]);
      if (answer == answers_.end()) {
        ProcessResult missing;
        missing.spawn_errno = ENOENT;
        return missing;
      }
      return answer->second;
    };
  }
  std::vector<Call> calls;

 private:
  std::map<std::string, ProcessResult> answers_;
};

ProcessResult Ok(std::string out = "") {
  ProcessResult result;
  result.exit_code = 0;
  result.out = std::move(out);
  return result;
}

ProcessResult Failed(int code, std::string err) {
  ProcessResult result;
  result.exit_code = code;
  result.err = std::move(err);
  return result;
}

const char* kSaveWithOurRules =
    "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:ISTIO_INBOUND - [0:0]\n"
    ":ISTIO_OUTPUT - [0:0]\n-A PREROUTING -p tcp -j ISTIO_INBOUND\n"
    "-A OUTPUT -p udp -j ACCEPT\n-A OUTPUT -p tcp -j ISTIO_OUTPUT\n"
    "-A KUBE-SERVICES -d 10.0.0.1/32 -j ISTIO_REDIRECT\nCOMMIT\n";

// The jumps from PREROUTING and OUTPUT are replaced; the one in someone else's chain is theirs.
TEST(InitIptables, ApplyIsOneRestoreThatReplacesTheJumps) {
  FakeTools tools;
  tools.Answer("iptables-save", Ok(kSaveWithOurRules));
  tools.Answer("iptables-restore", Ok());
  std::ostringstream notes;
  IptablesResult result = ApplyCapture(CaptureConfig{}, IpFamily::kV4, tools.runner(), notes);
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(tools.calls.size(), 2u);
  EXPECT_EQ(tools.calls[0].command, "iptables-save -t nat");
  EXPECT_EQ(tools.calls[1].command, "iptables-restore --noflush");
  EXPECT_EQ(tools.calls[1].input,
            RenderApply(BuildNatRules(CaptureConfig{}, IpFamily::kV4),
                        {"-D PREROUTING -p tcp -j ISTIO_INBOUND",
                         "-D OUTPUT -p tcp -j ISTIO_OUTPUT"}));
  EXPECT_EQ(notes.str(), "");
}

TEST(InitIptables, Ipv6UsesTheIp6Tools) {
  FakeTools tools;
  tools.Answer("ip6tables-save", Ok(""));
  tools.Answer("ip6tables-restore", Ok());
  std::ostringstream notes;
  ASSERT_TRUE(ApplyCapture(CaptureConfig{}, IpFamily::kV6, tools.runner(), notes).ok);
  ASSERT_EQ(tools.calls.size(), 2u);
  EXPECT_EQ(tools.calls[0].command, "ip6tables-save -t nat");
  EXPECT_EQ(tools.calls[1].command, "ip6tables-restore --noflush");
  EXPECT_THAT(tools.calls[1].input, HasSubstr("-A ISTIO_OUTPUT -d ::1/128 -j RETURN\n"));
}

TEST(InitIptables, MissingToolsSayToInstallIptables) {
  FakeTools tools;  // nothing installed
  std::ostringstream notes;
  IptablesResult result = ApplyCapture(CaptureConfig{}, IpFamily::kV4, tools.runner(), notes);
  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, HasSubstr("iptables-save"));
  EXPECT_THAT(result.error, HasSubstr("install the iptables package"));
  EXPECT_FALSE(CleanupCapture(IpFamily::kV4, tools.runner(), notes).ok);
}

TEST(InitIptables, WithoutRestoreFallsBackToOneCommandPerRule) {
  FakeTools tools;
  tools.Answer("iptables-save", Ok(kSaveWithOurRules));
  tools.Answer("iptables", Ok());
  std::ostringstream notes;
  IptablesResult result = ApplyCapture(CaptureConfig{}, IpFamily::kV4, tools.runner(), notes);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_THAT(notes.str(), HasSubstr("iptables-restore not found"));
  EXPECT_THAT(notes.str(), HasSubstr("not atomic"));
  // save, the failed restore, then: existing chains flushed, missing ones created, the old jumps
  // deleted, then the 18 rules.
  ASSERT_EQ(tools.calls.size(), 2u + 4u + 2u + 18u);
  EXPECT_EQ(tools.calls[2].command, "iptables -t nat -F ISTIO_INBOUND");
  EXPECT_EQ(tools.calls[3].command, "iptables -t nat -N ISTIO_REDIRECT");
  EXPECT_EQ(tools.calls[4].command, "iptables -t nat -N ISTIO_IN_REDIRECT");
  EXPECT_EQ(tools.calls[5].command, "iptables -t nat -F ISTIO_OUTPUT");
  EXPECT_EQ(tools.calls[6].command, "iptables -t nat -D PREROUTING -p tcp -j ISTIO_INBOUND");
  EXPECT_EQ(tools.calls[7].command, "iptables -t nat -D OUTPUT -p tcp -j ISTIO_OUTPUT");
  EXPECT_EQ(tools.calls[8].command,
            "iptables -t nat -A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001");
}

TEST(InitIptables, WithoutSaveReadsTheTableWithIptablesS) {
  FakeTools tools;
  tools.Answer("iptables", Ok("-P OUTPUT ACCEPT\n-N ISTIO_OUTPUT\n"));
  std::ostringstream notes;
  ASSERT_TRUE(CleanupCapture(IpFamily::kV4, tools.runner(), notes).ok);
  EXPECT_THAT(notes.str(), HasSubstr("iptables-save not found"));
  ASSERT_EQ(tools.calls.size(), 4u);
  EXPECT_EQ(tools.calls[0].command, "iptables-save -t nat");  // not found
  EXPECT_EQ(tools.calls[1].command, "iptables -t nat -S");
  EXPECT_EQ(tools.calls[2].command, "iptables -t nat -F ISTIO_OUTPUT");
  EXPECT_EQ(tools.calls[3].command, "iptables -t nat -X ISTIO_OUTPUT");
}

TEST(InitIptables, PermissionErrorsNameCapNetAdmin) {
  FakeTools tools;
  tools.Answer("iptables-save", Ok(""));
  tools.Answer("iptables-restore",
               Failed(1, "iptables-restore v1.8.9 (nf_tables): Could not fetch rule set "
                         "generation id: Permission denied (you must be root)\n"));
  std::ostringstream notes;
  IptablesResult result = ApplyCapture(CaptureConfig{}, IpFamily::kV4, tools.runner(), notes);
  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, HasSubstr("iptables-restore was refused"));
  EXPECT_THAT(result.error, HasSubstr("lacks CAP_NET_ADMIN"));
}

TEST(InitIptables, OtherFailuresShowTheToolsOwnMessage) {
  FakeTools tools;
  tools.Answer("iptables-save", Ok(""));
  tools.Answer("iptables-restore",
               Failed(2, "iptables-restore: line 9 failed: Couldn't load match `owner'\n"));
  std::ostringstream notes;
  IptablesResult result = ApplyCapture(CaptureConfig{}, IpFamily::kV4, tools.runner(), notes);
  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, HasSubstr("exit status 2: iptables-restore: line 9 failed"));
  EXPECT_THAT(result.error, Not(HasSubstr("CAP_NET_ADMIN")));
  EXPECT_THAT(result.error, HasSubstr("nothing was changed"));
}

TEST(InitIptables, CleanupOfAnEmptyTableRunsNoRestore) {
  FakeTools tools;
  tools.Answer("iptables-save", Ok("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"));
  tools.Answer("iptables-restore", Ok());
  std::ostringstream notes;
  ASSERT_TRUE(CleanupCapture(IpFamily::kV4, tools.runner(), notes).ok);
  EXPECT_EQ(tools.calls.size(), 1u);
}

TEST(InitIptables, CleanupRemovesTheJumpsAndTheChainsThatExist) {
  FakeTools tools;
  tools.Answer("iptables-save", Ok(kSaveWithOurRules));
  tools.Answer("iptables-restore", Ok());
  std::ostringstream notes;
  ASSERT_TRUE(CleanupCapture(IpFamily::kV4, tools.runner(), notes).ok);
  ASSERT_EQ(tools.calls.size(), 2u);
  EXPECT_EQ(tools.calls[1].input,
            "*nat\n:ISTIO_INBOUND - [0:0]\n:ISTIO_OUTPUT - [0:0]\n"
            "-D PREROUTING -p tcp -j ISTIO_INBOUND\n-D OUTPUT -p tcp -j ISTIO_OUTPUT\n"
            "-D KUBE-SERVICES -d 10.0.0.1/32 -j ISTIO_REDIRECT\n"
            "-X ISTIO_INBOUND\n-X ISTIO_OUTPUT\nCOMMIT\n");
}

TEST(InitIptables, DescribeFailure) {
  ProcessResult missing;
  missing.spawn_errno = ENOENT;
  EXPECT_EQ(DescribeFailure("ip6tables-restore", missing),
            "ip6tables-restore was not found in PATH: install the iptables package "
            "(Debian/Ubuntu: apt-get install iptables)");
  EXPECT_THAT(DescribeFailure("iptables-restore", Failed(4, "iptables-restore: Operation not "
                                                            "permitted\n")),
              HasSubstr("lacks CAP_NET_ADMIN"));
  ProcessResult killed;
  killed.exit_code = -1;
  EXPECT_EQ(DescribeFailure("iptables", killed), "iptables was killed by a signal");
}

}  // namespace
}  // namespace cmesh::proxy_init
