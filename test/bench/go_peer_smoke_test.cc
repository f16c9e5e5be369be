// The go-control-plane peer of the benchmark, end to end (ctest label "peer"): built (or reused
// from the cache) by bench/peers/go-control-plane/build, it serves cmeshctl's JSON of a tiny mesh
// to 20 cmesh-xds-load streams and follows a rewrite of that JSON. Skipped when no Go toolchain
// exists. No timing is asserted.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "load_run.h"
#include "temp_dir.h"
#include "test_paths.h"

extern char** environ;

namespace cmesh::testing {
namespace {

constexpr char kNode[] = "sidecar~10.0.0.1~load-0.ns-0~ns-0.svc.cluster.local";

// The peer as a child process, killed at scope exit.
class PeerProcess {
 public:
  PeerProcess(const std::string& binary, const std::string& snapshot, const std::string& log) {
    std::vector<std::string> args = {binary, "--snapshot", snapshot, "--listen-address", "127.0.0.1",
                                     "--xds-port", "0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~PeerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::optional<int> WaitForPort(const std::string& log_path, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    CommandResult r = RunCommand("sed -n 's/.*xds listening on [0-9.]*:\\([0-9]*\\).*/\\1/p' " + ShellQuote(log_path));
    if (r.exit_code == 0 && !r.output.empty()) return std::stoi(r.output);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

TEST(GoControlPlanePeerSmoke, ServesCmeshctlJsonAndFollowsARewrite) {
  // Builds at most once per input (go.mod, go.sum, main.go); progress goes to the test's log.
  CommandResult build = RunCommand(ShellQuote(SourceDir() + "/bench/peers/go-control-plane/build"));
  if (build.exit_code == 3) GTEST_SKIP() << "no Go toolchain (PATH or /usr/local/go/bin/go)";
  ASSERT_EQ(build.exit_code, 0);
  std::string peer = build.output.substr(0, build.output.find('\n'));
  ASSERT_FALSE(peer.empty());

  TempDir dir;
  ASSERT_EQ(RunCommand(ShellQuote(SourceDir() + "/bench/xds_load/make_mesh") + " " + ShellQuote(dir.path()) +
                       " 3 1 3 3")
                .exit_code,
            0);
  const std::string cmeshctl = ShellQuote(BinDir() + "/cmeshctl");
  const std::string compile = " --proxy " + ShellQuote(kNode) + " --proxy-labels app=xds-load -o json > ";
  ASSERT_EQ(RunCommand(cmeshctl + " compile -f " + ShellQuote(dir.Path("config")) + compile +
                       ShellQuote(dir.Path("snapshot.json")))
                .exit_code,
            0);
  ASSERT_EQ(RunCommand("cp -r " + ShellQuote(dir.Path("config")) + " " + ShellQuote(dir.Path("changed")) + " && cp " +
                       ShellQuote(dir.Path("change/vs-svc-0.yaml")) + " " + ShellQuote(dir.Path("changed/")) +
                       " && " + cmeshctl + " compile -f " + ShellQuote(dir.Path("changed")) + compile +
                       ShellQuote(dir.Path("snapshot-changed.json")))
                .exit_code,
            0);

  PeerProcess process(peer, dir.Path("snapshot.json"), dir.Path("peer.log"));
  ASSERT_GT(process.pid(), 0);
  auto port = WaitForPort(dir.Path("peer.log"), std::chrono::seconds(20));
  ASSERT_TRUE(port) << ReadFile(dir.Path("peer.log"));

  CommandResult run = RunCommand(ShellQuote(BinDir() + "/cmesh-xds-load") + " --port " + std::to_string(*port) +
                                 " --streams 20 --streams-per-channel 5 --namespace ns-0 --labels app=xds-load" +
                                 " --server-pid " + std::to_string(process.pid()) + " --change-file " +
                                 ShellQuote(dir.Path("snapshot.json")) + " --change-to " +
                                 ShellQuote(dir.Path("snapshot-changed.json")) +
                                 " --debounce-quiet 0 --settle 100ms --timeout 60s --server-name go-control-plane");
  nlohmann::json result = LastJsonLine(run.output);
  ASSERT_TRUE(result.is_object()) << run.output;
  EXPECT_EQ(run.exit_code, 0) << run.output << ReadFile(dir.Path("peer.log"));
  EXPECT_EQ(result["synced"], 20);
  // The same resources cmesh-pilot serves for this mesh (see xds_load_smoke_test.cc).
  EXPECT_EQ(result["resources"]["cds"], 15);
  EXPECT_EQ(result["resources"]["eds"], 12);
  EXPECT_EQ(result["resources"]["lds"], 3);
  EXPECT_EQ(result["resources"]["rds"], 1);
  EXPECT_EQ(result["change"]["all_acked"], true);
  EXPECT_EQ(result["change"]["rounds"][0]["acked"], 20);
  // Per-type versions: the route change re-sends RDS only.
  EXPECT_EQ(result["change"]["rounds"][0]["responses"]["cds"], 0);
  EXPECT_EQ(result["change"]["rounds"][0]["responses"]["rds"], 20);
  // --server-pid worked: the figures from /proc are there.
  EXPECT_GT(result["rss_1_kb"].get<long>(), 0);
  EXPECT_TRUE(result.contains("server_cpu_s"));
  EXPECT_EQ(result["errors"]["unexpected_stream_ends"], 0);
}

}  // namespace
}  // namespace cmesh::testing
