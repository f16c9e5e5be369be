// Interop with real proxyless gRPC clients: build/bin/cmesh-pilot serves a config directory to a
// grpc-js-xds client (client.js, npm @grpc/grpc-js-xds, pinned in package-lock.json) that calls
// plain grpc-js backends (backend.js) through xds:///greeter...:7070. Three backends, one per
// version, listen on 127.0.0.11/.12/.13 and answer with their version, so the client's answers
// show where the pilot's routing sent each call.
//
// What the client receives is only judged by what it does (which versions answer) and by the
// pilot's /debug/syncz (every type ACKed, nothing NACKed): a NACK means our output is wrong.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "node_process.h"
#include "pilot_process.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Where npm_install.sh (the interop.npm_install fixture) links the pinned node_modules.
constexpr char kNodeModules[] = CMESH_INTEROP_NODE_MODULES;
// The client's identity: a pod of namespace `interop`, as Istio's proxyless bootstrap names it.
constexpr char kClientNode[] = "sidecar~127.0.0.1~client-1.interop~interop.svc.cluster.local";
// Convergence (config push, reconnect) is waited for, never timed: generous deadlines.
constexpr auto kStartDeadline = 20s;
constexpr auto kConvergeDeadline = 30s;
// Per-RPC deadline: a call that cannot be routed fails with DEADLINE_EXCEEDED instead of hanging.
constexpr int kRpcDeadlineMs = 5000;

std::string InteropDir() { return SourceDir() + "/test/interop"; }
std::string DataFile(const std::string& name) { return InteropDir() + "/data/" + name; }

// The xDS names of the greeter service, in the forms Istio accepts for a client of its namespace.
const std::string kFqdnTarget = "xds:///greeter.interop.svc.cluster.local:7070";
const std::string kShortTarget = "xds:///greeter:7070";
const std::string kNamespacedTarget = "xds:///greeter.interop:7070";
const std::string kSvcTarget = "xds:///greeter.interop.svc:7070";

// The last `max` characters of a log, for failure messages (gRPC's xDS trace is long).
std::string Tail(const std::string& log, std::size_t max = 6000) {
  return log.size() <= max ? log : "...\n" + log.substr(log.size() - max);
}

// The outcome of a batch of RPCs: answers per version, failures per "CODE details".
struct Calls {
  bool valid = true;  // false when the client did not answer (the failure is already reported)
  std::map<std::string, int> versions;
  std::map<std::string, int> errors;
  int Count(const std::string& version) const {
    auto it = versions.find(version);
    return it == versions.end() ? 0 : it->second;
  }
  int Answered() const {
    int total = 0;
    for (const auto& [version, n] : versions) total += n;
    return total;
  }
  int Failed() const {
    int total = 0;
    for (const auto& [error, n] : errors) total += n;
    return total;
  }
  bool Only(const std::string& version) const { return Failed() == 0 && Answered() > 0 && Count(version) == Answered(); }
  std::string Describe() const {
    nlohmann::json j = {{"versions", versions}, {"errors", errors}};
    return j.dump();
  }
};

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_FALSE(staging_.path().empty());
    ASSERT_TRUE(FindNode()) << "node (Node.js) not found on PATH: the interop tests need it (scripts/setup)";
    ASSERT_TRUE(fs::exists(std::string(kNodeModules) + "/@grpc/grpc-js-xds"))
        << kNodeModules << " is missing: it is made by the ctest fixture interop.npm_install "
        << "(run the tests through ctest, or test/interop/npm_install.sh by hand)";
    ASSERT_NO_FATAL_FAILURE(StartBackends());
    WriteConfig("services.yaml", "services.yaml");
    WriteConfig("pods.yaml", "pods.yaml");
    WriteConfig("destination_rule.yaml", "destination_rule.yaml");
  }

  void TearDown() override {
    // CMESH_INTEROP_TRACE=1 prints them on success too, to see what the client was served.
    if (HasFailure() || std::getenv("CMESH_INTEROP_TRACE")) {
      if (client_) std::cerr << "--- client trace (tail) ---\n" << Tail(client_->Log()) << "\n";
      if (pilot_) std::cerr << "--- cmesh-pilot log (tail) ---\n" << Tail(pilot_->Log()) << "\n";
    }
  }

  // backend.js with one server per version on 127.0.0.11/.12/.13, all on one port it picks.
  void StartBackends() {
    backends_ = std::make_unique<NodeProcess>(
        InteropDir() + "/backend.js",
        std::vector<std::string>{"v1=127.0.0.11", "v2=127.0.0.12", "v3=127.0.0.13"}, NodeEnv());
    ASSERT_TRUE(backends_->started()) << backends_->error();
    auto line = backends_->ReadLine(kStartDeadline);
    ASSERT_TRUE(line) << "backend.js did not start:\n" << backends_->Log();
    auto ready = nlohmann::json::parse(*line, nullptr, false);
    ASSERT_TRUE(ready.is_object() && ready.contains("port")) << *line;
    backend_port_ = ready["port"].get<int>();
  }

  // data/`data_file` written into the config dir as `as`, with the backends' port for
  // @BACKEND_PORT@, in one rename so that the pilot's watcher never reads half a file.
  void WriteConfig(const std::string& data_file, const std::string& as) {
    std::string text = ReadFile(DataFile(data_file));
    text = std::regex_replace(text, std::regex("@BACKEND_PORT@"), std::to_string(backend_port_));
    staging_.Write(as, text);
    fs::rename(staging_.Path(as), dir_.Path(as));
  }

  void WriteVirtualService(const std::string& data_file) { WriteConfig(data_file, "virtual_service.yaml"); }

  void RemoveVirtualService() { ASSERT_TRUE(fs::remove(dir_.Path("virtual_service.yaml"))); }

  // cmesh-pilot on `xds_port`, or on a port the kernel picks when 0 (read from its log: a port
  // chosen here and passed on could be taken meanwhile, and gRPC's SO_REUSEPORT would let two
  // pilots share it silently), with the debug and monitoring ports picked by the kernel; then
  // waits for /ready.
  void StartPilot(int xds_port = 0) {
    pilot_ = std::make_unique<PilotProcess>(std::vector<std::string>{
        "--config-dir", dir_.path(), "--xds-port", std::to_string(xds_port), "--debug-port", "0",
        "--monitoring-port", "0", "--listen-address", "127.0.0.1"});
    ASSERT_TRUE(pilot_->started());
    auto bound = pilot_->WaitForPort("xds", kStartDeadline);
    ASSERT_TRUE(bound) << "cmesh-pilot did not listen for xDS:\n" << pilot_->Log();
    if (xds_port != 0) {
      ASSERT_EQ(*bound, xds_port);
    }
    xds_port_ = *bound;
    auto debug = pilot_->WaitForPort("debug", kStartDeadline);
    ASSERT_TRUE(debug) << pilot_->Log();
    debug_port_ = *debug;
    auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
    while (HttpGet(debug_port_, "/ready").status != 200 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(HttpGet(debug_port_, "/ready").status, 200) << pilot_->Log();
  }

  // client.js with a bootstrap naming our pilot, and gRPC's xDS trace on (kept for failures).
  void StartClient() {
    nlohmann::json bootstrap = {
        {"xds_servers",
         {{{"server_uri", "127.0.0.1:" + std::to_string(xds_port_)},
           {"channel_creds", {{{"type", "insecure"}}}},
           {"server_features", {"xds_v3"}}}}},
        {"node",
         {{"id", kClientNode},
          {"locality", nlohmann::json::object()},
          {"metadata", {{"GENERATOR", "grpc"}, {"LABELS", {{"app", "client"}}}}}}}};
    auto env = NodeEnv();
    env.emplace_back("GRPC_XDS_BOOTSTRAP_CONFIG", bootstrap.dump());
    env.emplace_back("GRPC_VERBOSITY", "DEBUG");
    env.emplace_back("GRPC_TRACE", "xds_client,xds_resolver");
    client_ = std::make_unique<NodeProcess>(InteropDir() + "/client.js", std::vector<std::string>{}, env);
    ASSERT_TRUE(client_->started()) << client_->error();
  }

  // `count` RPCs to `target` through the client, `concurrency` in flight at once.
  Calls Call(const std::string& target, int count, const std::map<std::string, std::string>& metadata = {},
             int concurrency = 1, int deadline_ms = kRpcDeadlineMs) {
    Calls calls;
    nlohmann::json command = {{"op", "call"},          {"target", target},
                              {"count", count},        {"concurrency", concurrency},
                              {"metadata", metadata},  {"deadline_ms", deadline_ms}};
    calls.valid = false;
    if (!client_->SendLine(command.dump())) {
      ADD_FAILURE() << "client.js is gone:\n" << Tail(client_->Log());
      return calls;
    }
    // Each RPC has its own deadline, so a batch ends within count / concurrency deadlines.
    auto wait = std::chrono::milliseconds(deadline_ms) * (count / concurrency + 2);
    auto line = client_->ReadLine(wait);
    if (!line) {
      ADD_FAILURE() << "no answer from client.js:\n" << Tail(client_->Log());
      return calls;
    }
    auto answer = nlohmann::json::parse(*line, nullptr, false);
    if (!answer.is_object() || !answer.value("ok", false)) {
      ADD_FAILURE() << "bad answer from client.js: " << *line;
      return calls;
    }
    for (const auto& [version, n] : answer["versions"].items()) calls.versions[version] = n.get<int>();
    for (const auto& [error, n] : answer["errors"].items()) calls.errors[error] = n.get<int>();
    calls.valid = true;
    return calls;
  }

  // Batches of `batch` RPCs until one satisfies `done` (true) or the deadline passes (false).
  // `last` gets the last batch, for the failure message.
  template <typename Predicate>
  bool CallUntil(const std::string& target, const std::map<std::string, std::string>& metadata, int batch,
                 Predicate done, Calls* last) {
    auto deadline = std::chrono::steady_clock::now() + kConvergeDeadline;
    do {
      *last = Call(target, batch, metadata, 1);
      if (!last->valid) return false;
      if (done(*last)) return true;
      std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  // The /debug/syncz entries of our client's streams.
  std::vector<nlohmann::json> ClientSyncEntries() {
    std::vector<nlohmann::json> entries;
    auto syncz = HttpGet(debug_port_, "/debug/syncz");
    if (syncz.status != 200) {
      ADD_FAILURE() << "/debug/syncz answered " << syncz.status;
      return entries;
    }
    auto list = nlohmann::json::parse(syncz.body, nullptr, false);
    if (!list.is_array()) {
      ADD_FAILURE() << "/debug/syncz is not a JSON list: " << syncz.body;
      return entries;
    }
    for (auto& entry : list) {
      if (entry.value("node_id", "") == kClientNode) entries.push_back(entry);
    }
    return entries;
  }

  // The client has ACKed the latest version of every type it was sent and never NACKed: waits
  // (an ACK may be in flight) until its one stream shows sent == acked for LDS, RDS, CDS and EDS.
  void ExpectClientAckedEverything() {
    std::vector<nlohmann::json> entries;
    auto deadline = std::chrono::steady_clock::now() + kConvergeDeadline;
    auto all_acked = [](const nlohmann::json& entry) {
      for (const char* type : {"LDS", "RDS", "CDS", "EDS"}) {
        if (!entry.contains(type)) return false;
        const auto& t = entry[type];
        if (!t["sent"].is_string() || t["sent"].get<std::string>().empty() || t["acked"] != t["sent"]) return false;
      }
      return true;
    };
    do {
      entries = ClientSyncEntries();
      if (entries.size() == 1 && all_acked(entries[0])) break;
      std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < deadline);
    ASSERT_EQ(entries.size(), 1u) << "streams of " << kClientNode << " in /debug/syncz: " << nlohmann::json(entries).dump(2);
    const auto& entry = entries[0];
    EXPECT_TRUE(all_acked(entry)) << entry.dump(2);
    EXPECT_TRUE(entry["last_nack"].is_null()) << "the client NACKed: " << entry["last_nack"].dump(2);
    for (const char* type : {"LDS", "RDS", "CDS", "EDS"}) EXPECT_EQ(entry[type]["nacks"], 0) << type;
    // The client's side of a NACK: grpc-js puts its validation errors in the error_detail of the
    // request it sends next, which the trace prints (checked to be on, so the check is not void).
    ASSERT_NE(client_->Log().find("Sending discovery request"), std::string::npos) << "no xDS trace from the client";
    EXPECT_EQ(client_->Log().find("xDS response validation errors"), std::string::npos)
        << "the client rejected a resource; see its trace";
  }

  // The environment every node script gets: the pinned modules.
  static NodeProcess::Env NodeEnv() { return {{"NODE_PATH", kNodeModules}}; }

  TempDir dir_;      // the pilot's --config-dir
  TempDir staging_;  // files are written here, then renamed into dir_
  std::unique_ptr<NodeProcess> backends_;
  std::unique_ptr<PilotProcess> pilot_;
  std::unique_ptr<NodeProcess> client_;
  int backend_port_ = 0;
  int xds_port_ = 0;
  int debug_port_ = 0;
};

// VirtualService weights 80/20 (v1/v2): grpc-js picks the weighted cluster of each RPC at random
// in proportion to the weights, so the number of v1 answers among N is Binomial(N, 0.8).
TEST_F(InteropTest, WeightedSplitFollowsTheWeights) {
  WriteVirtualService("vs_weighted_80_20.yaml");
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());

  constexpr int kCalls = 500;
  constexpr double kP = 0.8;
  Calls calls = Call(kFqdnTarget, kCalls, {}, 20);
  ASSERT_EQ(calls.Failed(), 0) << calls.Describe();
  ASSERT_EQ(calls.Answered(), kCalls) << calls.Describe();
  EXPECT_EQ(calls.Count("v3"), 0) << calls.Describe();
  // Mean 400, standard deviation sqrt(500 · 0.8 · 0.2) ≈ 8.9. Five standard deviations (±44) make
  // a false failure a one-in-a-million event, while a 50/50 split (250) or a missing subset (0 or
  // 500 v1 answers) is far outside.
  const double mean = kCalls * kP;
  const double sd = std::sqrt(kCalls * kP * (1 - kP));
  EXPECT_LE(std::abs(calls.Count("v1") - mean), 5 * sd) << calls.Describe();
  EXPECT_GT(calls.Count("v1"), 0) << calls.Describe();
  EXPECT_GT(calls.Count("v2"), 0) << calls.Describe();
  ExpectClientAckedEverything();
}

// `end-user: jason` goes to v3; every other call takes the second route, to v1. The target uses
// the namespace-qualified host.
TEST_F(InteropTest, HeaderMatchRoutesJasonToV3) {
  WriteVirtualService("vs_header_jason.yaml");
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());

  Calls jason = Call(kNamespacedTarget, 30, {{"end-user", "jason"}});
  EXPECT_TRUE(jason.Only("v3")) << jason.Describe();
  Calls other_user = Call(kNamespacedTarget, 30, {{"end-user", "alice"}});
  EXPECT_TRUE(other_user.Only("v1")) << other_user.Describe();
  Calls no_header = Call(kNamespacedTarget, 30);
  EXPECT_TRUE(no_header.Only("v1")) << no_header.Describe();
  ExpectClientAckedEverything();
}

// A single subset destination: only v2 answers, though v1 and v3 have endpoints too. The target
// uses the short host, which Istio resolves in the client's namespace.
TEST_F(InteropTest, SubsetDestinationReachesOnlyThatVersion) {
  WriteVirtualService("vs_subset_v2.yaml");
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());

  Calls calls = Call(kShortTarget, 60, {}, 4);
  EXPECT_TRUE(calls.Only("v2")) << calls.Describe();
  ExpectClientAckedEverything();
}

// The VirtualService file rewritten while the client runs: the same channel follows it.
TEST_F(InteropTest, LiveConfigChangeIsFollowedWithoutRestartingTheClient) {
  WriteVirtualService("vs_subset_v1.yaml");
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());

  Calls before = Call(kFqdnTarget, 20);
  ASSERT_TRUE(before.Only("v1")) << before.Describe();
  ASSERT_NO_FATAL_FAILURE(ExpectClientAckedEverything());

  WriteVirtualService("vs_subset_v3.yaml");
  Calls last;
  ASSERT_TRUE(CallUntil(kFqdnTarget, {}, 10, [](const Calls& c) { return c.Only("v3"); }, &last))
      << "the client never followed the change to v3; last batch " << last.Describe();
  // Once switched it stays switched (no flapping back to a stale version).
  Calls after = Call(kFqdnTarget, 40, {}, 4);
  EXPECT_TRUE(after.Only("v3")) << after.Describe();
  ExpectClientAckedEverything();
}

// Without a VirtualService the default route sends to the service's default cluster, whose
// endpoints are all three pods.
TEST_F(InteropTest, DeletedVirtualServiceFallsBackToTheDefaultRoute) {
  WriteVirtualService("vs_subset_v2.yaml");
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());

  Calls before = Call(kSvcTarget, 20);
  ASSERT_TRUE(before.Only("v2")) << before.Describe();

  ASSERT_NO_FATAL_FAILURE(RemoveVirtualService());
  // 60 calls over three endpoints: round robin gives each 20; even a uniformly random pick misses
  // one of them with probability 3 · (2/3)^60 ≈ 1e-10.
  Calls last;
  ASSERT_TRUE(CallUntil(kSvcTarget, {}, 60,
                        [](const Calls& c) {
                          return c.Failed() == 0 && c.Count("v1") > 0 && c.Count("v2") > 0 && c.Count("v3") > 0;
                        },
                        &last))
      << "the default route never reached all three versions; last batch " << last.Describe();
  EXPECT_EQ(last.Answered(), last.Count("v1") + last.Count("v2") + last.Count("v3")) << last.Describe();
  ExpectClientAckedEverything();
}

// cmesh-pilot stopped (SIGTERM) and started again on the same port and directory while the
// client runs: calls keep working on the config the client has, the client reconnects, ACKs the
// new pilot's resources, and follows a change made after the restart.
TEST_F(InteropTest, ClientReconnectsAfterPilotRestartAndFollowsChanges) {
  WriteVirtualService("vs_subset_v1.yaml");
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());
  Calls before = Call(kFqdnTarget, 20);
  ASSERT_TRUE(before.Only("v1")) << before.Describe();
  ASSERT_NO_FATAL_FAILURE(ExpectClientAckedEverything());

  const int port = xds_port_;
  EXPECT_EQ(pilot_->SignalAndWait(SIGTERM, kStartDeadline), 0) << pilot_->Log();
  // gRPC keeps using the resources it has while its control plane is away.
  Calls during = Call(kFqdnTarget, 20);
  EXPECT_TRUE(during.Only("v1")) << during.Describe();

  ASSERT_NO_FATAL_FAILURE(StartPilot(port));
  // The reconnected client subscribes again: its new stream ACKs every type.
  ASSERT_NO_FATAL_FAILURE(ExpectClientAckedEverything());

  WriteVirtualService("vs_subset_v2.yaml");
  Calls last;
  ASSERT_TRUE(CallUntil(kFqdnTarget, {}, 10, [](const Calls& c) { return c.Only("v2"); }, &last))
      << "the client never followed the change made after the restart; last batch " << last.Describe();
  ExpectClientAckedEverything();
}

// gRFC A33: the fault filter before the router, and the VirtualService's abort as the matching
// route's per-filter config. Jason's calls fail with the configured status and reach no backend;
// the other route is untouched.
TEST_F(InteropTest, FaultAbortFailsOnlyTheMatchingRoute) {
  WriteVirtualService("vs_fault_jason.yaml");
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());

  Calls jason = Call(kFqdnTarget, 20, {{"end-user", "jason"}});
  EXPECT_EQ(jason.Answered(), 0) << jason.Describe();
  ASSERT_EQ(jason.errors.size(), 1u) << jason.Describe();
  // PERMISSION_DENIED is code 7; client.js keys failures by "CODE details".
  EXPECT_EQ(jason.errors.begin()->first.rfind("7 ", 0), 0u) << jason.Describe();
  EXPECT_EQ(jason.Failed(), 20) << jason.Describe();
  Calls others = Call(kFqdnTarget, 20);
  EXPECT_TRUE(others.Only("v1")) << others.Describe();
  ExpectClientAckedEverything();
}

// A pod gone from the config dir leaves the ClusterLoadAssignment: the default route, which
// reached all three versions, reaches only v1 and v3 afterwards.
TEST_F(InteropTest, RemovedPodLeavesTheEndpoints) {
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());
  auto all_three = [](const Calls& c) {
    return c.Failed() == 0 && c.Count("v1") > 0 && c.Count("v2") > 0 && c.Count("v3") > 0;
  };
  Calls last;
  ASSERT_TRUE(CallUntil(kFqdnTarget, {}, 60, all_three, &last)) << last.Describe();

  WriteConfig("pods_without_v2.yaml", "pods.yaml");
  auto without_v2 = [](const Calls& c) {
    return c.Failed() == 0 && c.Count("v2") == 0 && c.Count("v1") > 0 && c.Count("v3") > 0;
  };
  ASSERT_TRUE(CallUntil(kFqdnTarget, {}, 30, without_v2, &last))
      << "v2 kept answering or v1/v3 stopped; last batch " << last.Describe();
  // Two endpoints left: 60 calls miss neither of them (a random pick misses one with
  // probability 2 · 2^-60) and never reach v2 again.
  Calls after = Call(kFqdnTarget, 60);
  EXPECT_TRUE(without_v2(after)) << after.Describe();
  ExpectClientAckedEverything();
}

// A client asking for a service that does not exist yet fails its calls; once the Service is
// written into the config dir, the pilot sends the listener it remembered was requested, and the
// same channel starts working. The port name `grpc-late` is Istio's grpc-* protocol convention.
TEST_F(InteropTest, ServiceAddedLaterIsServedToAWaitingClient) {
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());
  const std::string late_target = "xds:///late.interop.svc.cluster.local:7071";
  Calls greeter = Call(kFqdnTarget, 10);
  ASSERT_EQ(greeter.Answered(), 10) << greeter.Describe();
  // It fails with UNAVAILABLE once the client knows the listener does not exist, or with
  // DEADLINE_EXCEEDED while it still waits for it (gRPC's does-not-exist timer is 15 s).
  Calls missing = Call(late_target, 1, {}, 1, 2000);
  ASSERT_EQ(missing.Failed(), 1) << "late:7071 answered before its Service existed: " << missing.Describe();

  WriteConfig("late_service.yaml", "late_service.yaml");
  Calls last;
  ASSERT_TRUE(CallUntil(late_target, {}, 10, [](const Calls& c) { return c.Failed() == 0 && c.Answered() == 10; },
                        &last))
      << "the client never got late:7071; last batch " << last.Describe();
  Calls still = Call(kFqdnTarget, 10);
  EXPECT_EQ(still.Answered(), 10) << still.Describe();
  ExpectClientAckedEverything();
}

// gRFC A42: a DestinationRule's consistentHash on a header becomes a RING_HASH cluster and the
// route's hash policy, so every call of one user lands on one backend while users spread.
TEST_F(InteropTest, ConsistentHashKeepsEachUserOnOneBackend) {
  WriteConfig("destination_rule_consistent_hash.yaml", "destination_rule.yaml");
  ASSERT_NO_FATAL_FAILURE(StartPilot());
  ASSERT_NO_FATAL_FAILURE(StartClient());

  std::map<std::string, int> users_per_version;
  for (int user = 0; user < 20; ++user) {
    std::string name = "user-" + std::to_string(user);
    Calls calls = Call(kFqdnTarget, 6, {{"x-user", name}});
    ASSERT_EQ(calls.Failed(), 0) << name << ": " << calls.Describe();
    ASSERT_EQ(calls.versions.size(), 1u) << name << " was not kept on one backend: " << calls.Describe();
    ++users_per_version[calls.versions.begin()->first];
  }
  // Three backends with equal ring shares: 20 users all hashing to one of them has probability
  // 3 · (1/3)^20 ≈ 1e-9, so one backend for everybody means the header is not hashed.
  EXPECT_GE(users_per_version.size(), 2u) << nlohmann::json(users_per_version).dump();
  ExpectClientAckedEverything();
}

}  // namespace
}  // namespace cmesh::testing
