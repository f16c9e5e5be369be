// XdsClient against the real cmesh-pilot (build/bin/cmesh-pilot on test/pilot/data): the web pod's
// sidecar gets a complete configuration, follows a VirtualService change, and the pilot's
// /debug/syncz shows every type ACKed and no NACK.
#include <signal.h>

#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cmesh/xds_client/xds_client.h"
#include "pilot_process.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::xds_client {
namespace {

namespace fs = std::filesystem;
using cmesh::testing::HttpGet;
using cmesh::testing::PilotProcess;
using cmesh::testing::SourceDir;
using cmesh::testing::TempDir;
using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;

constexpr auto kDeadline = std::chrono::seconds(15);
constexpr char kWebNode[] = "sidecar~10.1.1.10~web-1.demo~demo.svc.cluster.local";
constexpr char kRatingsV1[] = "outbound|9080|v1|ratings.demo.svc.cluster.local";
constexpr char kRatingsV2[] = "outbound|9080|v2|ratings.demo.svc.cluster.local";

std::string DataFile(const std::string& name) { return SourceDir() + "/test/pilot/data/" + name; }

template <typename Predicate>
bool WaitFor(Predicate done, std::chrono::milliseconds timeout = kDeadline) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::vector<std::string> Keys(const auto& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}

// Every cluster a route configuration's routes send to.
std::vector<std::string> RouteClusters(const envoy::config::route::v3::RouteConfiguration& config) {
  std::vector<std::string> clusters;
  for (const auto& host : config.virtual_hosts()) {
    for (const auto& route : host.routes()) {
      if (route.route().has_cluster()) clusters.push_back(route.route().cluster());
    }
  }
  return clusters;
}

std::vector<std::string> EndpointIps(const XdsState& state, const std::string& cluster) {
  std::vector<std::string> ips;
  auto it = state.endpoints.find(cluster);
  if (it == state.endpoints.end()) return ips;
  const auto assignment = it->second.Decode();
  for (const auto& locality : assignment.endpoints()) {
    for (const auto& endpoint : locality.lb_endpoints()) {
      ips.push_back(endpoint.endpoint().address().socket_address().address());
    }
  }
  return ips;
}

TEST(XdsClientPilot, WebSidecarGetsACompleteStateFollowsAVirtualServiceChangeAndSynczShowsAcks) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  for (const char* file : {"services.yaml", "pods.yaml", "destination_rule.yaml"}) {
    fs::copy_file(DataFile(file), dir.Path(file));
  }
  fs::copy_file(DataFile("virtual_service_v1.yaml"), dir.Path("virtual_service.yaml"));
  PilotProcess pilot({"--config-dir", dir.path(), "--xds-port", "0", "--debug-port", "0", "--monitoring-port", "0",
                      "--listen-address", "127.0.0.1", "--debounce-quiet", "50ms", "--debounce-max", "500ms"});
  ASSERT_TRUE(pilot.started());
  auto xds_port = pilot.WaitForPort("xds", kDeadline);
  auto debug_port = pilot.WaitForPort("debug", kDeadline);
  ASSERT_TRUE(xds_port && debug_port) << pilot.Log();

  XdsClientOptions options;
  options.server = "127.0.0.1:" + std::to_string(*xds_port);
  options.node_id = kWebNode;
  options.namespace_name = "demo";
  options.labels = {{"app", "web"}, {"version", "v1"}};
  options.instance_ips = {"10.1.1.10"};
  options.proxy_version = "test";
  std::mutex mutex;
  std::vector<XdsStatePtr> states;
  XdsClient client(options, [&](XdsStatePtr state) {
    std::lock_guard lock(mutex);
    states.push_back(std::move(state));
  });
  client.Start();

  // The first state: complete, with Istio's sidecar resources for the web pod.
  ASSERT_TRUE(WaitFor([&] { return client.Current() != nullptr; })) << pilot.Log();
  XdsStatePtr first = client.Current();
  EXPECT_TRUE(first->complete()) << ::testing::PrintToString(first->missing);
  EXPECT_THAT(Keys(first->listeners), IsSupersetOf({"virtualOutbound", "virtualInbound", "0.0.0.0_9080"}));
  ASSERT_TRUE(first->routes.contains("9080")) << ::testing::PrintToString(Keys(first->routes));
  EXPECT_THAT(RouteClusters(*first->routes.at("9080")), Contains(kRatingsV1));
  EXPECT_THAT(Keys(first->clusters), IsSupersetOf({"outbound|8080||web.demo.svc.cluster.local",
                                                  "outbound|9080||ratings.demo.svc.cluster.local", kRatingsV1,
                                                  kRatingsV2}));
  // Subsets hold the pods of their version only (pods.yaml: ratings-v1-1 10.1.1.21, -v2-1 10.1.1.22).
  EXPECT_THAT(EndpointIps(*first, kRatingsV1), ::testing::ElementsAre("10.1.1.21"));
  EXPECT_THAT(EndpointIps(*first, kRatingsV2), ::testing::ElementsAre("10.1.1.22"));
  EXPECT_THAT(EndpointIps(*first, "outbound|9080||ratings.demo.svc.cluster.local"),
              ::testing::UnorderedElementsAre("10.1.1.21", "10.1.1.22"));

  // The VirtualService now sends ratings to v2: a new state, only the route changed.
  {
    std::string staged = dir.Path(".vs.tmp");
    fs::copy_file(DataFile("virtual_service_v2.yaml"), staged);
    fs::rename(staged, dir.Path("virtual_service.yaml"));
  }
  ASSERT_TRUE(WaitFor([&] {
    XdsStatePtr current = client.Current();
    return current->routes.contains("9080") &&
           ::testing::Matches(Contains(kRatingsV2))(RouteClusters(*current->routes.at("9080")));
  })) << pilot.Log();
  XdsStatePtr second = client.Current();
  EXPECT_GT(second->generation, first->generation);
  EXPECT_THAT(RouteClusters(*second->routes.at("9080")), Not(Contains(kRatingsV1)));
  EXPECT_NE(second->version(XdsType::kRoute), first->version(XdsType::kRoute));
  EXPECT_EQ(second->version(XdsType::kCluster), first->version(XdsType::kCluster));
  EXPECT_EQ(second->clusters.at(kRatingsV1), first->clusters.at(kRatingsV1));
  EXPECT_TRUE(second->complete());

  // The pilot's view: this sidecar has ACKed the versions the client holds, and never NACKed.
  nlohmann::json entry;
  ASSERT_TRUE(WaitFor([&] {
    auto syncz = HttpGet(*debug_port, "/debug/syncz");
    auto list = nlohmann::json::parse(syncz.body, nullptr, false);
    if (!list.is_array()) return false;
    XdsClientStatus status = client.Status();
    for (const auto& candidate : list) {
      if (candidate.value("node_id", "") != kWebNode) continue;
      bool acked = true;
      for (XdsType type : kXdsTypes) {
        acked = acked && candidate[std::string(ShortName(type))]["acked"] == status.type(type).version;
      }
      if (acked && status.type(XdsType::kRoute).version == second->version(XdsType::kRoute)) {
        entry = candidate;
        return true;
      }
    }
    return false;
  })) << HttpGet(*debug_port, "/debug/syncz").body;
  EXPECT_TRUE(entry["last_nack"].is_null()) << entry.dump();
  for (XdsType type : kXdsTypes) {
    EXPECT_FALSE(entry[std::string(ShortName(type))]["acked"].get<std::string>().empty()) << ShortName(type);
    EXPECT_EQ(entry[std::string(ShortName(type))]["nacks"], 0) << ShortName(type);
  }
  XdsClientStatus status = client.Status();
  EXPECT_TRUE(status.connected);
  EXPECT_EQ(status.nacks, 0u);
  EXPECT_TRUE(status.missing.empty());
  std::lock_guard lock(mutex);
  for (const XdsStatePtr& state : states) EXPECT_TRUE(state->complete()) << state->generation;
}

// The pilot restarts (SIGTERM, then a new process on the same xDS port with a changed
// VirtualService): the client keeps its state while the pilot is gone, then converges.
TEST(XdsClientPilot, KeepsItsStateWhileThePilotRestartsThenConvergesToTheNewOne) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  for (const char* file : {"services.yaml", "pods.yaml", "destination_rule.yaml"}) {
    fs::copy_file(DataFile(file), dir.Path(file));
  }
  fs::copy_file(DataFile("virtual_service_v1.yaml"), dir.Path("virtual_service.yaml"));
  auto args = [&](int xds_port) {
    return std::vector<std::string>{"--config-dir", dir.path(), "--xds-port", std::to_string(xds_port),
                                    "--debug-port", "0", "--monitoring-port", "0", "--listen-address", "127.0.0.1"};
  };
  auto pilot = std::make_unique<PilotProcess>(args(0));
  ASSERT_TRUE(pilot->started());
  auto xds_port = pilot->WaitForPort("xds", kDeadline);
  ASSERT_TRUE(xds_port) << pilot->Log();

  XdsClientOptions options;
  options.server = "127.0.0.1:" + std::to_string(*xds_port);
  options.node_id = kWebNode;
  options.namespace_name = "demo";
  options.labels = {{"app", "web"}, {"version", "v1"}};
  options.backoff_base = std::chrono::milliseconds(50);
  options.backoff_max = std::chrono::milliseconds(500);
  std::mutex mutex;
  std::vector<XdsStatePtr> states;
  XdsClient client(options, [&](XdsStatePtr state) {
    std::lock_guard lock(mutex);
    states.push_back(std::move(state));
  });
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return client.Current() != nullptr; })) << pilot->Log();
  XdsStatePtr before = client.Current();
  ASSERT_TRUE(before->routes.contains("9080"));
  EXPECT_THAT(RouteClusters(*before->routes.at("9080")), Contains(kRatingsV1));

  EXPECT_EQ(pilot->SignalAndWait(SIGTERM, kDeadline), 0) << pilot->Log();
  pilot.reset();
  ASSERT_TRUE(WaitFor([&] { return !client.Status().connected; }));
  EXPECT_EQ(client.Current(), before);

  fs::copy_file(DataFile("virtual_service_v2.yaml"), dir.Path("virtual_service.yaml"),
                fs::copy_options::overwrite_existing);
  pilot = std::make_unique<PilotProcess>(args(*xds_port));
  ASSERT_TRUE(pilot->started());
  ASSERT_TRUE(pilot->WaitForPort("xds", kDeadline)) << pilot->Log();
  ASSERT_TRUE(WaitFor([&] {
    XdsStatePtr current = client.Current();
    return current->routes.contains("9080") &&
           ::testing::Matches(Contains(kRatingsV2))(RouteClusters(*current->routes.at("9080")));
  })) << pilot->Log();
  XdsClientStatus status = client.Status();
  EXPECT_TRUE(status.connected);
  EXPECT_GE(status.reconnects, 1u);
  EXPECT_EQ(status.nacks, 0u);
  std::lock_guard lock(mutex);
  for (const XdsStatePtr& state : states) {
    EXPECT_TRUE(state->complete()) << state->generation;
    EXPECT_TRUE(state->routes.contains("9080")) << state->generation;
  }
}

}  // namespace
}  // namespace cmesh::xds_client
