// cmesh-init for real: run with `ip netns exec` in fresh network namespaces (root and the
// iptables tools needed; skipped otherwise), then read the nat table back and send traffic.
// The expected rules are Istio's layout as iptables-save prints it (addresses before interfaces
// before the protocol, `-m tcp` made explicit), written by hand.
#include <cstring>
#include <memory>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "netns.h"
#include "test_paths.h"

namespace cmesh::proxy_init {
namespace {

using testing::ConnectFrom;
using testing::NetNs;
using testing::TagServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

#define REQUIRE_NETNS()                                                         \
  if (auto reason = testing::NetnsUnavailableReason()) GTEST_SKIP() << *reason

std::string Binary() { return cmesh::testing::BinDir() + "/cmesh-init"; }

ProcessResult Init(const NetNs& ns, std::vector<std::string> args) {
  args.insert(args.begin(), Binary());
  ProcessResult result = ns.Exec(args);
  return result;
}

void MustInit(const NetNs& ns, std::vector<std::string> args) {
  ProcessResult result = Init(ns, args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

// "-A CHAIN ..." lines of one chain, in order.
std::vector<std::string> Rules(const std::string& table, const std::string& chain) {
  std::vector<std::string> rules;
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("-A " + chain + " ", 0) == 0) rules.push_back(line);
  }
  return rules;
}

std::string Without(const std::string& table, const std::string& removed) {
  std::string kept;
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    if (line != removed) kept += line + "\n";
  }
  return kept;
}

void ExpectDefaultLayout(const std::string& table) {
  for (const char* chain : {":ISTIO_INBOUND -", ":ISTIO_REDIRECT -", ":ISTIO_IN_REDIRECT -",
                            ":ISTIO_OUTPUT -"}) {
    EXPECT_THAT(table, HasSubstr(chain));
  }
  EXPECT_THAT(Rules(table, "PREROUTING"), ElementsAre("-A PREROUTING -p tcp -j ISTIO_INBOUND"));
  EXPECT_THAT(Rules(table, "OUTPUT"), ElementsAre("-A OUTPUT -p tcp -j ISTIO_OUTPUT"));
  EXPECT_THAT(Rules(table, "ISTIO_INBOUND"),
              ElementsAre("-A ISTIO_INBOUND -p tcp -m tcp --dport 15008 -j RETURN",
                          "-A ISTIO_INBOUND -p tcp -m tcp --dport 15090 -j RETURN",
                          "-A ISTIO_INBOUND -p tcp -m tcp --dport 15021 -j RETURN",
                          "-A ISTIO_INBOUND -p tcp -m tcp --dport 15020 -j RETURN",
                          "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT"));
  EXPECT_THAT(Rules(table, "ISTIO_IN_REDIRECT"),
              ElementsAre("-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006"));
  EXPECT_THAT(Rules(table, "ISTIO_REDIRECT"),
              ElementsAre("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001"));
  EXPECT_THAT(
      Rules(table, "ISTIO_OUTPUT"),
      ElementsAre("-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN",
                  "-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner "
                  "--uid-owner 1337 -j ISTIO_IN_REDIRECT",
                  "-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN",
                  "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
                  "-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner "
                  "--gid-owner 1337 -j ISTIO_IN_REDIRECT",
                  "-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN",
                  "-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN",
                  "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
                  "-A ISTIO_OUTPUT -j ISTIO_REDIRECT"));
}

TEST(CmeshInitNetns, InstallsIstiosLayout) {
  REQUIRE_NETNS();
  NetNs pod("layout");
  ASSERT_TRUE(pod.created());
  MustInit(pod, {"--ipv6=off"});
  ExpectDefaultLayout(pod.NatTable());
}

TEST(CmeshInitNetns, RerunsReplaceAndCleanupRestoresOthersRules) {
  REQUIRE_NETNS();
  NetNs pod("idempotent");
  ASSERT_TRUE(pod.created());
  // Someone else's chain and rules, which cmesh-init must leave alone.
  ASSERT_EQ(pod.Exec({"iptables", "-t", "nat", "-N", "KEEP_ME"}).exit_code, 0);
  ASSERT_EQ(pod.Exec({"iptables", "-t", "nat", "-A", "KEEP_ME", "-p", "udp", "-j", "RETURN"}).exit_code, 0);
  ASSERT_EQ(pod.Exec({"iptables", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "-j", "KEEP_ME"}).exit_code, 0);
  const std::string before = pod.NatTable();

  MustInit(pod, {"--ipv6=off"});
  const std::string first = pod.NatTable();
  // The foreign OUTPUT rule stays before our jump; our layout is the rest.
  EXPECT_THAT(Rules(first, "OUTPUT"),
              ElementsAre("-A OUTPUT -p udp -j KEEP_ME", "-A OUTPUT -p tcp -j ISTIO_OUTPUT"));
  ExpectDefaultLayout(Without(first, "-A OUTPUT -p udp -j KEEP_ME"));
  EXPECT_THAT(Rules(first, "KEEP_ME"), ElementsAre("-A KEEP_ME -p udp -j RETURN"));

  MustInit(pod, {"--ipv6=off"});
  EXPECT_EQ(pod.NatTable(), first);

  // Other flags replace the rules rather than adding to them, and going back gives the same table.
  MustInit(pod, {"--ipv6=off", "--exclude-outbound-ports=3306"});
  const std::string other = pod.NatTable();
  ASSERT_FALSE(Rules(other, "ISTIO_OUTPUT").empty()) << other;
  EXPECT_EQ(Rules(other, "ISTIO_OUTPUT")[0],
            "-A ISTIO_OUTPUT -p tcp -m tcp --dport 3306 -j RETURN");
  EXPECT_EQ(Rules(other, "OUTPUT").size(), 2u);
  MustInit(pod, {"--ipv6=off"});
  EXPECT_EQ(pod.NatTable(), first);

  ProcessResult cleaned = Init(pod, {"--cleanup", "--ipv6=off"});
  ASSERT_EQ(cleaned.exit_code, 0) << cleaned.err;
  const std::string after = pod.NatTable();
  EXPECT_THAT(after, Not(HasSubstr("ISTIO_")));
  EXPECT_EQ(after, before);
  // A second cleanup has nothing to do and succeeds.
  EXPECT_EQ(Init(pod, {"--cleanup", "--ipv6=off"}).exit_code, 0);
}

TEST(CmeshInitNetns, DryRunChangesNothing) {
  REQUIRE_NETNS();
  NetNs pod("dryrun");
  ASSERT_TRUE(pod.created());
  const std::string before = pod.NatTable();
  ProcessResult printed = Init(pod, {"--dry-run", "--ipv6=on"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_THAT(printed.out, HasSubstr("-A ISTIO_OUTPUT -j ISTIO_REDIRECT"));
  EXPECT_EQ(pod.NatTable(), before);
  EXPECT_THAT(pod.NatTable(/*ipv6=*/true), Not(HasSubstr("ISTIO_")));

  // What it printed is what it applies: fed to iptables-restore by hand, it gives the table
  // cmesh-init itself gives in another namespace.
  ProcessResult v4 = Init(pod, {"--dry-run", "--ipv6=off"});
  ProcessResult restored =
      RunProcess({"ip", "netns", "exec", pod.name(), "iptables-restore", "--noflush"}, v4.out);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  NetNs reference("dryrun-reference");
  ASSERT_TRUE(reference.created());
  MustInit(reference, {"--ipv6=off"});
  EXPECT_EQ(pod.NatTable(), reference.NatTable());
}

TEST(CmeshInitNetns, Ipv6RulesWhenThePodHasIpv6) {
  REQUIRE_NETNS();
  NetNs pod("ipv6");
  ASSERT_TRUE(pod.created());
  // auto, and no global IPv6 address: IPv4 only.
  MustInit(pod, {});
  EXPECT_THAT(pod.NatTable(/*ipv6=*/true), Not(HasSubstr("ISTIO_")));
  // A global IPv6 address makes the pod dual-stack: auto now writes ip6tables rules too.
  // (A veth pair: the dummy link type is not in every kernel.)
  testing::MustRun({"ip", "-n", pod.name(), "link", "add", "eth0", "type", "veth", "peer", "name",
                    "eth1"});
  testing::MustRun({"ip", "-n", pod.name(), "addr", "add", "fd12:3456::2/64", "dev", "eth0"});
  testing::MustRun({"ip", "-n", pod.name(), "link", "set", "eth0", "up"});
  MustInit(pod, {});
  const std::string v6 = pod.NatTable(/*ipv6=*/true);
  EXPECT_THAT(Rules(v6, "PREROUTING"), ElementsAre("-A PREROUTING -p tcp -j ISTIO_INBOUND"));
  ASSERT_FALSE(Rules(v6, "ISTIO_OUTPUT").empty()) << v6;
  EXPECT_EQ(Rules(v6, "ISTIO_OUTPUT").front(), "-A ISTIO_OUTPUT -s ::6/128 -o lo -j RETURN");
  EXPECT_THAT(Rules(v6, "ISTIO_OUTPUT"), ::testing::Contains("-A ISTIO_OUTPUT -d ::1/128 -j RETURN"));
  EXPECT_THAT(Rules(v6, "ISTIO_REDIRECT"),
              ElementsAre("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001"));
  ProcessResult cleaned = Init(pod, {"--cleanup"});
  ASSERT_EQ(cleaned.exit_code, 0) << cleaned.err;
  EXPECT_THAT(pod.NatTable(/*ipv6=*/true), Not(HasSubstr("ISTIO_")));
  EXPECT_THAT(pod.NatTable(), Not(HasSubstr("ISTIO_")));
}

TEST(CmeshInitNetns, WithoutNetAdminTheErrorSaysSo) {
  REQUIRE_NETNS();
  NetNs pod("nocap");
  ASSERT_TRUE(pod.created());
  ProcessResult result = testing::ExecWithoutNetAdmin(pod, {Binary(), "--ipv6=off"});
  if (result.spawn_errno != 0) {
    GTEST_SKIP() << "cannot drop CAP_NET_ADMIN here: " << std::strerror(result.spawn_errno);
  }
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("lacks CAP_NET_ADMIN"));
  EXPECT_THAT(pod.NatTable(), Not(HasSubstr("ISTIO_")));
}

// A pod namespace and a peer namespace on a veth pair: the pod runs the capture listeners and an
// app, the peer plays another pod.
class CmeshInitTraffic : public ::testing::Test {
 protected:
  static constexpr const char* kPodIp = "10.123.0.1";
  static constexpr const char* kPeerIp = "10.123.0.2";

  void SetUp() override {
    REQUIRE_NETNS();
    pod_ = std::make_unique<NetNs>("pod");
    peer_ = std::make_unique<NetNs>("peer");
    ASSERT_TRUE(pod_->created() && peer_->created());
    testing::MustRun({"ip", "-n", pod_->name(), "link", "add", "eth0", "type", "veth", "peer",
                      "name", "eth0", "netns", peer_->name()});
    for (auto [ns, ip] : {std::pair{pod_.get(), kPodIp}, std::pair{peer_.get(), kPeerIp}}) {
      testing::MustRun({"ip", "-n", ns->name(), "addr", "add", std::string(ip) + "/24", "dev", "eth0"});
      testing::MustRun({"ip", "-n", ns->name(), "link", "set", "eth0", "up"});
    }
    // 15001 and 15006 stand for the sidecar's capture listeners, 8081 for the app, 15021 for
    // the sidecar's health port; the peer serves 8080.
    pod_server_ = std::make_unique<TagServer>(
        *pod_, std::vector<std::pair<std::string, int>>{
                   {"outbound", 15001}, {"inbound", 15006}, {"app", 8081}, {"health", 15021}});
    peer_server_ = std::make_unique<TagServer>(
        *peer_, std::vector<std::pair<std::string, int>>{{"peer", 8080}});
    ASSERT_TRUE(pod_server_->ready() && peer_server_->ready());
  }

  void TearDown() override {
    pod_server_.reset();
    peer_server_.reset();
    pod_.reset();
    peer_.reset();
  }

  std::unique_ptr<NetNs> pod_, peer_;
  std::unique_ptr<TagServer> pod_server_, peer_server_;
};

TEST_F(CmeshInitTraffic, BeforeCmeshInitNothingIsCaptured) {
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080), "peer:8080");
  EXPECT_EQ(ConnectFrom(*peer_, kPodIp, 8081), "app:8081");
}

TEST_F(CmeshInitTraffic, DefaultRules) {
  MustInit(*pod_, {"--ipv6=off"});
  // The app's outbound connection lands on the outbound listener, original port kept.
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080), "outbound:8080");
  // The proxy's own (UID 1337) goes out as is.
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080, 1337u), "peer:8080");
  // Inbound to the app goes through the inbound listener; the health port is excluded.
  EXPECT_EQ(ConnectFrom(*peer_, kPodIp, 8081), "inbound:8081");
  EXPECT_EQ(ConnectFrom(*peer_, kPodIp, 15021), "health:15021");
  // Loopback, as Istio: localhost is never captured; the app reaching its own pod IP (over lo)
  // is not captured; the proxy reaching its own pod IP goes to the inbound side.
  EXPECT_EQ(ConnectFrom(*pod_, "127.0.0.1", 8081), "app:8081");
  EXPECT_EQ(ConnectFrom(*pod_, kPodIp, 8081), "app:8081");
  EXPECT_EQ(ConnectFrom(*pod_, kPodIp, 8081, 1337u), "inbound:8081");
  // Another UID is captured like the app.
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080, 1000u), "outbound:8080");
}

TEST_F(CmeshInitTraffic, FlagsChangeWhatIsCaptured) {
  MustInit(*pod_, {"--ipv6=off", "--exclude-outbound-ip-ranges=10.123.0.2/32",
                   "--exclude-inbound-ports=8081"});
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080), "peer:8080");
  EXPECT_EQ(ConnectFrom(*peer_, kPodIp, 8081), "app:8081");
  MustInit(*pod_, {"--ipv6=off", "--include-outbound-ip-ranges=", "--outbound-ports=8080",
                   "--inbound-ports=15021", "--proxy-uid=1000", "--proxy-gid=1000"});
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080), "outbound:8080");
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080, 1000u), "peer:8080");
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080, 1337u), "outbound:8080");
  EXPECT_EQ(ConnectFrom(*peer_, kPodIp, 8081), "app:8081");
  EXPECT_EQ(ConnectFrom(*peer_, kPodIp, 15021), "inbound:15021");
  ProcessResult cleaned = Init(*pod_, {"--cleanup", "--ipv6=off"});
  ASSERT_EQ(cleaned.exit_code, 0) << cleaned.err;
  EXPECT_EQ(ConnectFrom(*pod_, kPeerIp, 8080), "peer:8080");
}

}  // namespace
}  // namespace cmesh::proxy_init
