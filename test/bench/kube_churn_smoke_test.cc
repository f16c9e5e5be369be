// Smoke test of cmesh-kube-churn (bench/kube_churn) on the real test apiserver: a tiny mesh (5
// services x 2 pods), 5 s of churn against a cmesh-pilot the tool starts, and every write's effect
// must reach the sidecar stream. Timing figures are printed by the tool, never asserted here.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "churn_flags.h"
#include "kube_env.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::kube_churn {
namespace {

using nlohmann::json;

json LastJsonLine(const std::string& out) {
  json last;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(start, end - start);
    if (!line.empty() && line[0] == '{') last = json::parse(line, nullptr, false);
    start = end + 1;
  }
  return last;
}

TEST(KubeChurnFlags, ParsesTheServerCommandAndAutoPort) {
  std::string error;
  auto flags = ParseFlags({"--kubeconfig", "k", "--xds-port", "auto", "--services", "3", "--duration", "2s", "--",
                           "server", "--port", "{XDS_PORT}"},
                          &error);
  ASSERT_TRUE(flags.has_value()) << error;
  EXPECT_EQ(flags->xds_port, -1);
  EXPECT_EQ(flags->services, 3);
  EXPECT_EQ(flags->duration, std::chrono::milliseconds(2000));
  EXPECT_EQ(flags->server_command, (std::vector<std::string>{"server", "--port", "{XDS_PORT}"}));
}

TEST(KubeChurnFlags, RejectsWhatCannotRun) {
  std::string error;
  EXPECT_FALSE(ParseFlags({"--xds-port", "15010"}, &error).has_value());
  EXPECT_NE(error.find("--kubeconfig"), std::string::npos) << error;
  error.clear();
  // auto needs a server to hand the port to.
  EXPECT_FALSE(ParseFlags({"--kubeconfig", "k", "--xds-port", "auto"}, &error).has_value());
  error.clear();
  EXPECT_FALSE(ParseFlags({"--kubeconfig", "k", "--xds-port", "1", "--rate", "0"}, &error).has_value());
}

TEST(KubeChurnSmoke, EveryWriteReachesTheSidecarFromCmeshPilot) {
  CMESH_REQUIRE_KUBE();
  testing::KubeNamespace ns;
  ASSERT_EQ(ns.error(), "");
  testing::TempDir dir;
  const std::string kubeconfig = testing::KubeconfigPath();
  testing::CommandOptions options;
  options.timeout = std::chrono::seconds(400);
  // The pilot's Lease lives in the test's namespace, so it never competes with other tests' pilots.
  const auto result = testing::RunCommand(
      {testing::BinDir() + "/cmesh-kube-churn", "--kubeconfig", kubeconfig, "--namespace", ns.name(), "--crds",
       testing::SourceDir() + "/crds", "--services", "5", "--pods-per-service", "2", "--rate", "20", "--duration",
       "5s", "--writers", "4", "--drain", "60s", "--sync-timeout", "120s", "--settle", "200ms", "--xds-port", "auto",
       "--server-name", "cmesh", "--server-log", dir.path() + "/pilot.log", "--cleanup", "--",
       testing::BinDir() + "/cmesh-pilot", "--kubeconfig", kubeconfig, "--xds-port", "{XDS_PORT}",
       "--monitoring-port", "{FREE_PORT}", "--debug-port", "{FREE_PORT}", "--webhook-port", "0",
       "--listen-address", "127.0.0.1",
       "--leader-election-namespace", ns.name()},
      options);
  std::cout << result.out << result.err;
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json figures = LastJsonLine(result.out);
  ASSERT_TRUE(figures.is_object()) << result.out;
  EXPECT_EQ(figures.value("pods", 0), 10);
  EXPECT_EQ(figures.value("failed_writes", -1), 0);
  // 20 writes/s for 5 s: events happened, and each one's effect arrived at the sidecar.
  EXPECT_GT(figures.value("events", 0), 0);
  EXPECT_EQ(figures.value("arrived_events", -1), figures.value("events", 0));
  EXPECT_EQ(figures.value("never_arrived_events", -1), 0);
  EXPECT_EQ(figures.value("stream_ended", "?"), "");
  // The server's figures come from /proc/PID of the started pilot.
  EXPECT_TRUE(figures["rss_idle_kb"].is_number());
  EXPECT_TRUE(figures["cpu_churn_s"].is_number());
}

}  // namespace
}  // namespace cmesh::kube_churn
