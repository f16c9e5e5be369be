// cmesh-xds-load end to end: against a real cmesh-pilot on a tiny generated mesh (every stream
// syncs, every stream ACKs the rewritten VirtualService, the reconnect storm resyncs everyone),
// and against a server that sends garbage (the tool counts and NACKs, and does not crash).
// No timing is asserted: the figures belong to bench/run_xds_bench.
#include <signal.h>

#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "load_run.h"
#include "pilot_process.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using ::testing::HasSubstr;

constexpr char kCdsUrl[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

std::string LoadTool() { return ShellQuote(BinDir() + "/cmesh-xds-load"); }

TEST(XdsLoadSmoke, TwentySidecarsSyncAckTheChangeAndSurviveAStorm) {
  TempDir dir;
  // 3 services in one namespace, 3 subsets, 3 pods each (bench/xds_load/make_mesh).
  ASSERT_EQ(RunCommand(ShellQuote(SourceDir() + "/bench/xds_load/make_mesh") + " " + ShellQuote(dir.path()) +
                       " 3 1 3 3")
                .exit_code,
            0);
  PilotProcess pilot({"--config-dir", dir.Path("config"), "--xds-port", "0", "--debug-port", "0",
                      "--monitoring-port", "0", "--listen-address", "127.0.0.1"});
  ASSERT_TRUE(pilot.started());
  auto port = pilot.WaitForPort("xds", std::chrono::seconds(20));
  ASSERT_TRUE(port) << pilot.Log();

  // 20 streams, 5 per connection; two rewrites (the flipped split, then the original back).
  CommandResult run = RunCommand(LoadTool() + " --port " + std::to_string(*port) +
                                 " --streams 20 --streams-per-channel 5 --namespace ns-0 --labels app=xds-load"
                                 " --change-file " + ShellQuote(dir.Path("config/vs-svc-0.yaml")) +
                                 " --change-to " + ShellQuote(dir.Path("change/vs-svc-0.yaml")) +
                                 " --change-rounds 2 --reconnect-storm --settle 100ms --timeout 60s"
                                 " --server-name cmesh");
  nlohmann::json result = LastJsonLine(run.output);
  ASSERT_TRUE(result.is_object()) << run.output;
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(result["server"], "cmesh");
  EXPECT_EQ(result["complete"], true) << run.output;
  EXPECT_EQ(result["synced"], 20);
  EXPECT_EQ(result["channels"], 4);  // 20 streams / 5 per channel
  // Per proxy: 3 services x (1 + 3 subsets) EDS clusters plus Passthrough, BlackHole and
  // InboundPassthrough; one assignment per EDS cluster; 0.0.0.0_9080, virtualOutbound and
  // virtualInbound; the route configuration "9080".
  EXPECT_EQ(result["resources"]["cds"], 15);
  EXPECT_EQ(result["resources"]["eds"], 12);
  EXPECT_EQ(result["resources"]["lds"], 3);
  EXPECT_EQ(result["resources"]["rds"], 1);
  ASSERT_EQ(result["change"]["rounds"].size(), 2u);
  EXPECT_EQ(result["change"]["all_acked"], true);
  for (const auto& round : result["change"]["rounds"]) {
    EXPECT_EQ(round["acked"], 20) << round;
    // Only a VirtualService changed: each stream gets one RDS response and nothing else.
    EXPECT_EQ(round["responses"]["rds"], 20) << round;
    EXPECT_EQ(round["responses"]["cds"], 0) << round;
    EXPECT_EQ(round["responses"]["eds"], 0) << round;
    EXPECT_EQ(round["responses"]["lds"], 0) << round;
  }
  EXPECT_EQ(result["storm"]["synced"], 20);
  EXPECT_EQ(result["errors"]["unexpected_stream_ends"], 0);
  EXPECT_EQ(result["errors"]["malformed_responses"], 0);
  EXPECT_EQ(result["errors"]["nacks_sent"], 0);
  // The file holds the original VirtualService again after the second round.
  EXPECT_THAT(ReadFile(dir.Path("config/vs-svc-0.yaml")), HasSubstr("weight: 80"));

  // A "change" to the content the file already has cannot be observed: reported at once.
  CommandResult same = RunCommand(LoadTool() + " --port " + std::to_string(*port) +
                                  " --streams 2 --namespace ns-0 --settle 0 --timeout 60s --change-file " +
                                  ShellQuote(dir.Path("config/vs-svc-0.yaml")) + " --change-to " +
                                  ShellQuote(dir.Path("config/vs-svc-0.yaml")));
  nlohmann::json same_result = LastJsonLine(same.output);
  ASSERT_TRUE(same_result.is_object()) << same.output;
  EXPECT_EQ(same.exit_code, 1);
  EXPECT_THAT(same_result["failure"].get<std::string>(), HasSubstr("already has the content"));
  EXPECT_EQ(same_result["synced"], 2);

  EXPECT_EQ(pilot.SignalAndWait(SIGTERM, std::chrono::seconds(10)), 0) << pilot.Log();
}

// Answers the first request with a response of an unknown type and a CDS response whose first
// resource is truncated; records the NACKs it gets.
class GarbageAds final : public envoy::service::discovery::v3::AggregatedDiscoveryService::Service {
 public:
  grpc::Status StreamAggregatedResources(
      grpc::ServerContext*, grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream) override {
    DiscoveryRequest request;
    bool sent = false;
    while (stream->Read(&request)) {
      if (request.has_error_detail()) {
        std::lock_guard lock(mu_);
        nacks_.push_back(request);
      }
      if (sent) continue;
      sent = true;
      DiscoveryResponse unknown;
      unknown.set_type_url("type.googleapis.com/not.a.Type");
      unknown.set_version_info("1");
      unknown.set_nonce("a");
      stream->Write(unknown);
      DiscoveryResponse bad;
      bad.set_type_url(kCdsUrl);
      bad.set_version_info("1");
      bad.set_nonce("b");
      auto* any = bad.add_resources();
      any->set_type_url(kCdsUrl);
      any->set_value(std::string("\x0a\x05" "ab", 4));  // field 1 claims 5 bytes, 2 follow
      stream->Write(bad);
    }
    return grpc::Status::OK;
  }
  std::vector<DiscoveryRequest> nacks() {
    std::lock_guard lock(mu_);
    return nacks_;
  }

 private:
  std::mutex mu_;
  std::vector<DiscoveryRequest> nacks_;
};

TEST(XdsLoadSmoke, GarbageIsCountedAndNackedWithoutACrash) {
  GarbageAds service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  ASSERT_GT(port, 0);

  CommandResult run = RunCommand(LoadTool() + " --port " + std::to_string(port) +
                                 " --streams 1 --timeout 2s --settle 0 --server-name garbage");
  nlohmann::json result = LastJsonLine(run.output);
  ASSERT_TRUE(result.is_object()) << run.output;
  EXPECT_EQ(run.exit_code, 1);  // the first stream never synced: incomplete, not a crash
  EXPECT_EQ(result["complete"], false);
  EXPECT_THAT(result["failure"].get<std::string>(), HasSubstr("first stream sync"));
  // Two bad responses; only the CDS one has a type to NACK against.
  EXPECT_EQ(result["errors"]["malformed_responses"], 2);
  EXPECT_EQ(result["errors"]["nacks_sent"], 1);
  auto nacks = service.nacks();
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0].type_url(), kCdsUrl);
  EXPECT_EQ(nacks[0].response_nonce(), "b");
  EXPECT_EQ(nacks[0].version_info(), "");  // nothing was ever accepted
  EXPECT_THAT(nacks[0].error_detail().message(), HasSubstr("does not parse"));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

TEST(XdsLoadSmoke, BadFlagsAreAUsageError) {
  EXPECT_EQ(RunCommand(LoadTool() + " --streams 0 2>/dev/null").exit_code, 2);
  EXPECT_EQ(RunCommand(LoadTool() + " --change-file x 2>/dev/null").exit_code, 2);
  EXPECT_EQ(RunCommand(LoadTool() + " --labels nolabel 2>/dev/null").exit_code, 2);
}

}  // namespace
}  // namespace cmesh::testing
