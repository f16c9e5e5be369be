// The expected rules are written from istio-iptables' layout (istio-init's nat table), not from
// this code's output.
#include "cmesh/proxy_init/nat_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/proxy_init/flags.h"

namespace cmesh::proxy_init {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

CaptureConfig Config(std::vector<std::string> args) {
  auto parsed = ParseFlags(args);
  EXPECT_TRUE(std::holds_alternative<Options>(parsed));
  return std::holds_alternative<Options>(parsed) ? std::get<Options>(parsed).capture
                                                 : CaptureConfig{};
}

// The specs appended to one chain, in order, without the "-A CHAIN " prefix.
std::vector<std::string> Chain(const NatRules& rules, const std::string& chain) {
  std::vector<std::string> specs;
  const std::string prefix = "-A " + chain + " ";
  for (const auto& rule : rules.rules) {
    if (rule.rfind(prefix, 0) == 0) specs.push_back(rule.substr(prefix.size()));
  }
  return specs;
}

const std::vector<std::string> kDefaultOutputV4 = {
    "-o lo -s 127.0.0.6/32 -j RETURN",
    "-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT",
    "-o lo -m owner ! --uid-owner 1337 -j RETURN",
    "-m owner --uid-owner 1337 -j RETURN",
    "-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT",
    "-o lo -m owner ! --gid-owner 1337 -j RETURN",
    "-m owner --gid-owner 1337 -j RETURN",
    "-d 127.0.0.1/32 -j RETURN",
    "-j ISTIO_REDIRECT",
};

TEST(InitNatRules, DefaultsV4) {
  NatRules rules = BuildNatRules(Config({}), IpFamily::kV4);
  EXPECT_THAT(Chain(rules, "PREROUTING"), ElementsAre("-p tcp -j ISTIO_INBOUND"));
  EXPECT_THAT(Chain(rules, "OUTPUT"), ElementsAre("-p tcp -j ISTIO_OUTPUT"));
  EXPECT_THAT(Chain(rules, "ISTIO_REDIRECT"), ElementsAre("-p tcp -j REDIRECT --to-ports 15001"));
  EXPECT_THAT(Chain(rules, "ISTIO_IN_REDIRECT"),
              ElementsAre("-p tcp -j REDIRECT --to-ports 15006"));
  EXPECT_THAT(Chain(rules, "ISTIO_INBOUND"),
              ElementsAre("-p tcp --dport 15008 -j RETURN", "-p tcp --dport 15090 -j RETURN",
                          "-p tcp --dport 15021 -j RETURN", "-p tcp --dport 15020 -j RETURN",
                          "-p tcp -j ISTIO_IN_REDIRECT"));
  EXPECT_THAT(Chain(rules, "ISTIO_OUTPUT"), ElementsAreArray(kDefaultOutputV4));
  // Nothing else: the two jumps, ISTIO_INBOUND, the two REDIRECT chains, ISTIO_OUTPUT.
  EXPECT_EQ(rules.rules.size(), 2u + 5u + 2u + 9u);
}

TEST(InitNatRules, DefaultsV6UseTheIpv6Loopbacks) {
  NatRules rules = BuildNatRules(Config({}), IpFamily::kV6);
  EXPECT_THAT(Chain(rules, "PREROUTING"), ElementsAre("-p tcp -j ISTIO_INBOUND"));
  EXPECT_THAT(Chain(rules, "OUTPUT"), ElementsAre("-p tcp -j ISTIO_OUTPUT"));
  EXPECT_THAT(
      Chain(rules, "ISTIO_OUTPUT"),
      ElementsAre(
          "-o lo -s ::6/128 -j RETURN",
          "-o lo ! -d ::1/128 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT",
          "-o lo -m owner ! --uid-owner 1337 -j RETURN", "-m owner --uid-owner 1337 -j RETURN",
          "-o lo ! -d ::1/128 -p tcp ! --dport 15008 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT",
          "-o lo -m owner ! --gid-owner 1337 -j RETURN", "-m owner --gid-owner 1337 -j RETURN",
          "-d ::1/128 -j RETURN", "-j ISTIO_REDIRECT"));
}

TEST(InitNatRules, InboundPortListCapturesOnlyThosePorts) {
  NatRules rules = BuildNatRules(Config({"--inbound-ports=8080,9090", "--exclude-inbound-ports=22"}),
                                 IpFamily::kV4);
  EXPECT_THAT(Chain(rules, "PREROUTING"), ElementsAre("-p tcp -j ISTIO_INBOUND"));
  EXPECT_THAT(Chain(rules, "ISTIO_INBOUND"),
              ElementsAre("-p tcp --dport 15008 -j RETURN",
                          "-p tcp --dport 8080 -j ISTIO_IN_REDIRECT",
                          "-p tcp --dport 9090 -j ISTIO_IN_REDIRECT"));
}

TEST(InitNatRules, EmptyInboundPortsCaptureNothingInbound) {
  NatRules rules = BuildNatRules(Config({"--inbound-ports="}), IpFamily::kV4);
  EXPECT_TRUE(Chain(rules, "PREROUTING").empty());
  EXPECT_THAT(Chain(rules, "ISTIO_INBOUND"), ElementsAre("-p tcp --dport 15008 -j RETURN"));
  EXPECT_THAT(Chain(rules, "ISTIO_OUTPUT"), ElementsAreArray(kDefaultOutputV4));
}

TEST(InitNatRules, ExcludedInboundPortsReturnBeforeTheCatchAll) {
  NatRules rules = BuildNatRules(Config({"--exclude-inbound-ports=22,15021"}), IpFamily::kV4);
  EXPECT_THAT(Chain(rules, "ISTIO_INBOUND"),
              ElementsAre("-p tcp --dport 15008 -j RETURN", "-p tcp --dport 15090 -j RETURN",
                          "-p tcp --dport 15021 -j RETURN", "-p tcp --dport 15020 -j RETURN",
                          "-p tcp --dport 22 -j RETURN", "-p tcp -j ISTIO_IN_REDIRECT"));
}

TEST(InitNatRules, ExcludedOutboundPortsReturnFirst) {
  NatRules rules = BuildNatRules(Config({"--exclude-outbound-ports=3306,5432"}), IpFamily::kV4);
  std::vector<std::string> expected = {"-p tcp --dport 3306 -j RETURN",
                                       "-p tcp --dport 5432 -j RETURN"};
  expected.insert(expected.end(), kDefaultOutputV4.begin(), kDefaultOutputV4.end());
  EXPECT_THAT(Chain(rules, "ISTIO_OUTPUT"), ElementsAreArray(expected));
}

TEST(InitNatRules, IncludedOutboundPortsRedirectWhateverTheDestination) {
  // With no range included, only the listed ports are captured.
  NatRules rules = BuildNatRules(
      Config({"--outbound-ports=9000,9001", "--include-outbound-ip-ranges="}), IpFamily::kV4);
  std::vector<std::string> expected(kDefaultOutputV4.begin(), kDefaultOutputV4.end() - 1);
  expected.push_back("-p tcp --dport 9000 -j ISTIO_REDIRECT");
  expected.push_back("-p tcp --dport 9001 -j ISTIO_REDIRECT");
  EXPECT_THAT(Chain(rules, "ISTIO_OUTPUT"), ElementsAreArray(expected));
}

TEST(InitNatRules, OutboundRangesSplitByFamily) {
  CaptureConfig config = Config({"--include-outbound-ip-ranges=10.0.0.0/8,fd00::/8",
                                 "--exclude-outbound-ip-ranges=10.96.0.1/32,fd00::1/128"});
  std::vector<std::string> v4(kDefaultOutputV4.begin(), kDefaultOutputV4.end() - 1);
  v4.push_back("-d 10.96.0.1/32 -j RETURN");
  v4.push_back("-d 10.0.0.0/8 -j ISTIO_REDIRECT");
  EXPECT_THAT(Chain(BuildNatRules(config, IpFamily::kV4), "ISTIO_OUTPUT"), ElementsAreArray(v4));
  std::vector<std::string> v6 = Chain(BuildNatRules(config, IpFamily::kV6), "ISTIO_OUTPUT");
  ASSERT_EQ(v6.size(), 10u);
  EXPECT_EQ(v6[7], "-d ::1/128 -j RETURN");
  EXPECT_EQ(v6[8], "-d fd00::1/128 -j RETURN");
  EXPECT_EQ(v6[9], "-d fd00::/8 -j ISTIO_REDIRECT");
}

TEST(InitNatRules, ExcludedRangesWithTheWildcardStillEndInTheRedirect) {
  std::vector<std::string> out = Chain(
      BuildNatRules(Config({"--exclude-outbound-ip-ranges=169.254.169.254"}), IpFamily::kV4),
      "ISTIO_OUTPUT");
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(out[8], "-d 169.254.169.254/32 -j RETURN");
  EXPECT_EQ(out[9], "-j ISTIO_REDIRECT");
}

TEST(InitNatRules, IncludedLoopbackRangeCapturesTheAppsLoopbackTraffic) {
  // Istio drops the "app over lo returns" rules when the included ranges cover 127.0.0.1.
  std::vector<std::string> out = Chain(
      BuildNatRules(Config({"--include-outbound-ip-ranges=127.0.0.0/8"}), IpFamily::kV4),
      "ISTIO_OUTPUT");
  EXPECT_THAT(
      out,
      ElementsAre(
          "-o lo -s 127.0.0.6/32 -j RETURN",
          "-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT",
          "-m owner --uid-owner 1337 -j RETURN",
          "-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT",
          "-m owner --gid-owner 1337 -j RETURN", "-d 127.0.0.1/32 -j RETURN",
          "-d 127.0.0.0/8 -j ISTIO_REDIRECT"));
}

TEST(InitNatRules, EveryProxyIdGetsItsOwnerRules) {
  std::vector<std::string> out =
      Chain(BuildNatRules(Config({"--proxy-uid=1000,1001", "--proxy-gid=2000",
                                  "--inbound-tunnel-port=16008"}),
                          IpFamily::kV4),
            "ISTIO_OUTPUT");
  EXPECT_THAT(
      out,
      ElementsAre(
          "-o lo -s 127.0.0.6/32 -j RETURN",
          "-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 16008 -m owner --uid-owner 1000 -j ISTIO_IN_REDIRECT",
          "-o lo -m owner ! --uid-owner 1000 -j RETURN", "-m owner --uid-owner 1000 -j RETURN",
          "-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 16008 -m owner --uid-owner 1001 -j ISTIO_IN_REDIRECT",
          "-o lo -m owner ! --uid-owner 1001 -j RETURN", "-m owner --uid-owner 1001 -j RETURN",
          "-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 16008 -m owner --gid-owner 2000 -j ISTIO_IN_REDIRECT",
          "-o lo -m owner ! --gid-owner 2000 -j RETURN", "-m owner --gid-owner 2000 -j RETURN",
          "-d 127.0.0.1/32 -j RETURN", "-j ISTIO_REDIRECT"));
}

TEST(InitNatRules, CapturePorts) {
  NatRules rules = BuildNatRules(
      Config({"--outbound-capture-port=16001", "--inbound-capture-port=16006"}), IpFamily::kV4);
  EXPECT_THAT(Chain(rules, "ISTIO_REDIRECT"), ElementsAre("-p tcp -j REDIRECT --to-ports 16001"));
  EXPECT_THAT(Chain(rules, "ISTIO_IN_REDIRECT"),
              ElementsAre("-p tcp -j REDIRECT --to-ports 16006"));
}

TEST(InitNatRules, RenderApplyDeclaresDeletesThenAppends) {
  NatRules rules{{"-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
                  "-A OUTPUT -p tcp -j ISTIO_OUTPUT"}};
  EXPECT_EQ(RenderApply(rules, {"-D OUTPUT -p tcp -j ISTIO_OUTPUT"}),
            "*nat\n"
            ":ISTIO_INBOUND - [0:0]\n"
            ":ISTIO_REDIRECT - [0:0]\n"
            ":ISTIO_IN_REDIRECT - [0:0]\n"
            ":ISTIO_OUTPUT - [0:0]\n"
            "-D OUTPUT -p tcp -j ISTIO_OUTPUT\n"
            "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001\n"
            "-A OUTPUT -p tcp -j ISTIO_OUTPUT\n"
            "COMMIT\n");
}

TEST(InitNatRules, RenderCleanupFlushesDeletesJumpsThenChains) {
  EXPECT_EQ(RenderCleanup({"ISTIO_INBOUND", "ISTIO_IN_REDIRECT"},
                          {"-D PREROUTING -p tcp -j ISTIO_INBOUND"}),
            "*nat\n"
            ":ISTIO_INBOUND - [0:0]\n"
            ":ISTIO_IN_REDIRECT - [0:0]\n"
            "-D PREROUTING -p tcp -j ISTIO_INBOUND\n"
            "-X ISTIO_INBOUND\n"
            "-X ISTIO_IN_REDIRECT\n"
            "COMMIT\n");
}

}  // namespace
}  // namespace cmesh::proxy_init
