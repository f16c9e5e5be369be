// cmesh-pilot end to end: the binary on a temp config dir, a real gRPC ADS client as a sidecar,
// the debug and monitoring ports over plain sockets, and SIGTERM.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ads_test_client.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "pilot_process.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

namespace fs = std::filesystem;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
// The web pod of test/pilot/data/pods.yaml, as its sidecar identifies itself.
constexpr char kWebNode[] = "sidecar~10.1.1.10~web-1.demo~demo.svc.cluster.local";
constexpr auto kDeadline = std::chrono::seconds(10);

std::string DataFile(const std::string& name) { return SourceDir() + "/test/pilot/data/" + name; }

// Copies one of test/pilot/data/ into the config directory under the name `as`.
void CopyData(const TempDir& dir, const std::string& data_file, const std::string& as) {
  fs::copy_file(DataFile(data_file), dir.Path(as), fs::copy_options::overwrite_existing);
}

std::vector<std::string> PortZeroArgs(const std::string& dir) {
  return {"--config-dir", dir, "--xds-port", "0", "--debug-port", "0", "--monitoring-port", "0",
          "--listen-address", "127.0.0.1", "--debounce-quiet", "50ms", "--debounce-max", "500ms"};
}

DiscoveryRequest Request(const std::string& type, std::vector<std::string> names = {}) {
  DiscoveryRequest request;
  request.set_type_url(type);
  for (auto& name : names) request.add_resource_names(name);
  auto* node = request.mutable_node();
  node->set_id(kWebNode);
  auto& labels = *(*node->mutable_metadata()->mutable_fields())["LABELS"].mutable_struct_value()->mutable_fields();
  labels["app"].set_string_value("web");
  labels["version"].set_string_value("v1");
  return request;
}

// The next response of `type`, ACKing every response read on the way (as Envoy does).
std::optional<DiscoveryResponse> NextOfType(xds::testing::SotwTestStream& stream, const std::string& type,
                                            const std::vector<std::string>& route_names = {}) {
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    auto response = stream.Next(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!response) return std::nullopt;
    DiscoveryRequest ack = Request(response->type_url(), response->type_url() == kRouteType
                                                             ? route_names
                                                             : std::vector<std::string>{});
    ack.set_version_info(response->version_info());
    ack.set_response_nonce(response->nonce());
    stream.Send(ack);
    if (response->type_url() == type) return response;
  }
  return std::nullopt;
}

std::vector<std::string> ClusterNames(const DiscoveryResponse& response) {
  std::vector<std::string> names;
  for (const auto& any : response.resources()) {
    envoy::config::cluster::v3::Cluster cluster;
    if (any.UnpackTo(&cluster)) names.push_back(cluster.name());
  }
  return names;
}

// The clusters the routes of a RouteConfiguration send to.
std::vector<std::string> RouteClusters(const DiscoveryResponse& response) {
  std::vector<std::string> clusters;
  for (const auto& any : response.resources()) {
    envoy::config::route::v3::RouteConfiguration config;
    if (!any.UnpackTo(&config)) continue;
    for (const auto& vhost : config.virtual_hosts()) {
      for (const auto& route : vhost.routes()) {
        if (route.route().has_cluster()) clusters.push_back(vhost.name() + " -> " + route.route().cluster());
      }
    }
  }
  return clusters;
}

// A metric's value in the text exposition, nullopt when the series is absent.
std::optional<double> MetricValue(const std::string& text, const std::string& series) {
  std::string escaped = std::regex_replace(series, std::regex(R"([\{\}\|\.\+\*\?\(\)\[\]\\^$])"), R"(\$&)");
  std::smatch match;
  if (!std::regex_search(text, match, std::regex("(^|\n)" + escaped + " ([0-9.e+-]+)"))) return std::nullopt;
  return std::stod(match[2].str());
}

TEST(PilotFlags, BadFlagExitsTwoWithUsage) {
  PilotProcess pilot({"--config-dir", "/tmp", "--no-such-flag", "1"});
  ASSERT_TRUE(pilot.started());
  EXPECT_EQ(pilot.Wait(kDeadline), 2);
  EXPECT_THAT(pilot.Log(), HasSubstr("unknown flag --no-such-flag"));
  EXPECT_THAT(pilot.Log(), HasSubstr("usage: cmesh-pilot"));
}

TEST(PilotFlags, MissingConfigSourceAndBadPortExitTwo) {
  // Outside a pod (no KUBERNETES_SERVICE_HOST in the test's environment) a source must be named.
  ASSERT_EQ(std::getenv("KUBERNETES_SERVICE_HOST"), nullptr);
  PilotProcess no_dir({"--xds-port", "0"});
  ASSERT_TRUE(no_dir.started());
  EXPECT_EQ(no_dir.Wait(kDeadline), 2);
  EXPECT_THAT(no_dir.Log(), HasSubstr("a config source is required: --config-dir, --kubeconfig or --in-cluster"));
  PilotProcess both({"--kubeconfig", "/tmp/x", "--in-cluster"});
  ASSERT_TRUE(both.started());
  EXPECT_EQ(both.Wait(kDeadline), 2);
  EXPECT_THAT(both.Log(), HasSubstr("--kubeconfig and --in-cluster exclude each other"));
  PilotProcess bad_kubeconfig({"--kubeconfig", "/nonexistent/kubeconfig", "--xds-port", "0", "--debug-port", "0",
                               "--monitoring-port", "0"});
  ASSERT_TRUE(bad_kubeconfig.started());
  EXPECT_EQ(bad_kubeconfig.Wait(kDeadline), 1);
  EXPECT_THAT(bad_kubeconfig.Log(), HasSubstr("/nonexistent/kubeconfig"));
  PilotProcess bad_port({"--config-dir", "/tmp", "--xds-port", "70000"});
  ASSERT_TRUE(bad_port.started());
  EXPECT_EQ(bad_port.Wait(kDeadline), 2);
  PilotProcess bad_interval({"--config-dir", "/tmp", "--memory-release-interval", "soon"});
  ASSERT_TRUE(bad_interval.started());
  EXPECT_EQ(bad_interval.Wait(kDeadline), 2);
  EXPECT_THAT(bad_interval.Log(), HasSubstr("--memory-release-interval"));
}

TEST(PilotFlags, HelpExitsZero) {
  PilotProcess pilot({"--help"});
  ASSERT_TRUE(pilot.started());
  EXPECT_EQ(pilot.Wait(kDeadline), 0);
  EXPECT_THAT(pilot.Log(), HasSubstr("--monitoring-port"));
}

TEST(Pilot, JsonLogFormatWritesOneObjectPerLine) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  CopyData(dir, "invalid_virtual_service.yaml", "invalid.yaml");
  auto args = PortZeroArgs(dir.path());
  args.insert(args.end(), {"--log-format", "json"});
  PilotProcess pilot(args);
  ASSERT_TRUE(pilot.started());
  ASSERT_TRUE(pilot.WaitForPort("monitoring", kDeadline)) << pilot.Log();
  EXPECT_EQ(pilot.SignalAndWait(SIGINT, kDeadline), 0) << pilot.Log();
  std::istringstream lines(pilot.Log());
  int errors = 0;
  for (std::string line; std::getline(lines, line);) {
    auto object = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(object.is_object()) << line;
    EXPECT_TRUE(object.contains("time") && object.contains("level") && object.contains("msg")) << line;
    if (object.value("level", "") == "error") {
      ++errors;
      EXPECT_THAT(object.value("msg", ""), HasSubstr("VirtualService demo/broken"));
    }
  }
  EXPECT_EQ(errors, 1);
}

TEST(Pilot, ServesSidecarPushesChangesAndShutsDownCleanly) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  CopyData(dir, "services.yaml", "services.yaml");
  CopyData(dir, "pods.yaml", "pods.yaml");
  CopyData(dir, "destination_rule.yaml", "destination_rule.yaml");
  CopyData(dir, "virtual_service_v1.yaml", "virtual_service.yaml");
  CopyData(dir, "invalid_virtual_service.yaml", "invalid.yaml");

  PilotProcess pilot(PortZeroArgs(dir.path()));
  ASSERT_TRUE(pilot.started());
  auto xds_port = pilot.WaitForPort("xds", kDeadline);
  auto debug_port = pilot.WaitForPort("debug", kDeadline);
  auto monitoring_port = pilot.WaitForPort("monitoring", kDeadline);
  ASSERT_TRUE(xds_port && debug_port && monitoring_port) << pilot.Log();

  // Readiness, polled with a deadline.
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (HttpGet(*debug_port, "/ready").status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(HttpGet(*debug_port, "/ready").status, 200);

  // The invalid object is named in an error line; the rest is served.
  EXPECT_THAT(pilot.Log(), HasSubstr("VirtualService demo/broken"));

  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(*xds_port), grpc::InsecureChannelCredentials());
  auto stub = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel);
  xds::testing::SotwTestStream stream(*stub, &xds::testing::AdsStub::StreamAggregatedResources);

  ASSERT_TRUE(stream.Send(Request(kClusterType)));
  auto cds = NextOfType(stream, kClusterType);
  ASSERT_TRUE(cds) << pilot.Log();
  // Istio's outbound cluster names: outbound|PORT|SUBSET|FQDN, one per service port and per subset.
  EXPECT_THAT(ClusterNames(*cds), IsSupersetOf({"outbound|8080||web.demo.svc.cluster.local",
                                                "outbound|9080||ratings.demo.svc.cluster.local",
                                                "outbound|9080|v1|ratings.demo.svc.cluster.local",
                                                "outbound|9080|v2|ratings.demo.svc.cluster.local"}));

  ASSERT_TRUE(stream.Send(Request(kListenerType)));
  ASSERT_TRUE(NextOfType(stream, kListenerType));
  // Istio names a sidecar's outbound HTTP route configuration after the port.
  const std::vector<std::string> routes = {"9080"};
  ASSERT_TRUE(stream.Send(Request(kRouteType, routes)));
  auto rds = NextOfType(stream, kRouteType, routes);
  ASSERT_TRUE(rds);
  EXPECT_THAT(RouteClusters(*rds),
              ::testing::Contains(HasSubstr("-> outbound|9080|v1|ratings.demo.svc.cluster.local")));

  // A proxy that is not connected still has its config dump, the `cmeshctl compile` JSON.
  auto dump = HttpGet(*debug_port, "/debug/config_dump?proxyID=sidecar~10.1.1.21~ratings-v1-1.demo~demo.svc.cluster.local");
  ASSERT_EQ(dump.status, 200);
  auto dump_json = nlohmann::json::parse(dump.body, nullptr, false);
  ASSERT_FALSE(dump_json.is_discarded());
  for (const char* key : {"listeners", "routes", "clusters", "endpoints"}) EXPECT_TRUE(dump_json.contains(key)) << key;
  EXPECT_THAT(dump.body, HasSubstr("outbound|9080|v2|ratings.demo.svc.cluster.local"));
  EXPECT_EQ(HttpGet(*debug_port, "/debug/config_dump?proxyID=not-a-node").status, 400);

  // The VirtualService rewritten: the route's new version is pushed, now to v2.
  {
    std::string staged = dir.path() + "/.vs.tmp";
    fs::copy_file(DataFile("virtual_service_v2.yaml"), staged);
    fs::rename(staged, dir.path() + "/virtual_service.yaml");
  }
  auto rds2 = NextOfType(stream, kRouteType, routes);
  ASSERT_TRUE(rds2) << pilot.Log();
  EXPECT_NE(rds2->version_info(), rds->version_info());
  EXPECT_THAT(RouteClusters(*rds2),
              ::testing::Contains(HasSubstr("-> outbound|9080|v2|ratings.demo.svc.cluster.local")));
  EXPECT_THAT(RouteClusters(*rds2),
              ::testing::Not(::testing::Contains(HasSubstr("-> outbound|9080|v1|ratings.demo.svc.cluster.local"))));

  // syncz: our stream, with the new route version sent and (once our ACK is in) ACKed.
  nlohmann::json entry;
  deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    auto syncz = HttpGet(*debug_port, "/debug/syncz");
    ASSERT_EQ(syncz.status, 200);
    auto list = nlohmann::json::parse(syncz.body, nullptr, false);
    ASSERT_TRUE(list.is_array()) << syncz.body;
    if (list.size() == 1 && list[0]["RDS"]["acked"] == rds2->version_info()) {
      entry = list[0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry["node_id"], kWebNode);
  EXPECT_EQ(entry["RDS"]["sent"], rds2->version_info());
  EXPECT_EQ(entry["CDS"]["acked"], cds->version_info());
  EXPECT_TRUE(entry["last_nack"].is_null());

  // Metrics: one connected stream; the group's first snapshot and the route change published, the
  // clusters untouched by the change (so published once); one invalid object skipped.
  // The push's own accounting (its time, its log line) is recorded once the push returns, which
  // can be after the proxy already ACKed what it published: poll until it is in.
  auto metrics = HttpGet(*monitoring_port, "/metrics");
  deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline &&
         (MetricValue(metrics.body, "pilot_xds_push_time_count").value_or(0) < 2 ||
          MetricValue(metrics.body, "pilot_xds_pushes{type=\"rds\"}").value_or(0) < 2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    metrics = HttpGet(*monitoring_port, "/metrics");
  }
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(MetricValue(metrics.body, "pilot_xds"), 1);
  EXPECT_EQ(MetricValue(metrics.body, "pilot_xds_pushes{type=\"rds\"}"), 2);
  EXPECT_EQ(MetricValue(metrics.body, "pilot_xds_pushes{type=\"cds\"}"), 1);
  EXPECT_EQ(MetricValue(metrics.body, "pilot_total_xds_rejects{type=\"rds\"}"), 0);
  EXPECT_EQ(MetricValue(metrics.body, "cmesh_config_objects{kind=\"VirtualService\"}"), 1);
  EXPECT_EQ(MetricValue(metrics.body, "cmesh_config_objects{kind=\"Pod\"}"), 3);
  EXPECT_EQ(MetricValue(metrics.body, "cmesh_config_invalid_objects"), 1);
  // The ACKs of CDS, LDS and the changed RDS are always timed from their change. The ACK of the
  // first RDS version may arrive after the second version was already sent: its nonce is then
  // stale, and a stale ACK is counted but not timed, so it is not required here. Sums are in
  // seconds: no ACK took longer than this test's deadline.
  // Pushes: the initial load and the VirtualService rewrite at least (the web proxy's first
  // snapshot is compiled at registration, which is no push).
  auto push_count = MetricValue(metrics.body, "pilot_xds_push_time_count");
  ASSERT_TRUE(push_count) << metrics.body;
  EXPECT_GE(*push_count, 2);
  EXPECT_THAT(pilot.Log(), HasSubstr("groups compiled, 1 published"));
  auto convergence_count = MetricValue(metrics.body, "pilot_proxy_convergence_time_count");
  auto convergence_sum = MetricValue(metrics.body, "pilot_proxy_convergence_time_sum");
  ASSERT_TRUE(convergence_count && convergence_sum) << metrics.body;
  EXPECT_GE(*convergence_count, 3);
  EXPECT_GT(*convergence_sum, 0);
  EXPECT_LT(*convergence_sum, *convergence_count * 10);
#ifdef CMESH_PROMTOOL
  {
    std::string file = dir.path() + "/metrics.txt";
    std::ofstream(file) << metrics.body;
    std::string report = dir.path() + "/promtool.txt";
    int status = std::system((std::string(CMESH_PROMTOOL) + " check metrics < " + file + " > " + report + " 2>&1").c_str());
    // promtool exits 0 when clean, 1 on a parse error, 3 on lint problems only. The one lint
    // problem accepted is Istio's own naming: its counters (pilot_xds_pushes,
    // pilot_total_xds_rejects) have no "_total" suffix, and cmesh keeps Istio's names.
    ASSERT_TRUE(WIFEXITED(status));
    int code = WEXITSTATUS(status);
    std::string lint = ReadFile(report);
    EXPECT_TRUE(code == 0 || code == 3) << lint;
    std::istringstream lines(lint);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_THAT(line, HasSubstr("counter metrics should have \"_total\" suffix"));
    }
  }
#endif

  // A file that disappears removes its objects: without the VirtualService, Istio's default
  // route goes to the service's subset-less cluster.
  fs::remove(dir.path() + "/virtual_service.yaml");
  auto rds3 = NextOfType(stream, kRouteType, routes);
  ASSERT_TRUE(rds3) << pilot.Log();
  EXPECT_THAT(RouteClusters(*rds3),
              ::testing::Contains(HasSubstr("-> outbound|9080||ratings.demo.svc.cluster.local")));
  EXPECT_THAT(RouteClusters(*rds3), ::testing::Not(::testing::Contains(HasSubstr("|v2|ratings"))));

  // Malformed HTTP gets 400 and the server keeps answering.
  EXPECT_EQ(RawHttp(*debug_port, "garbage\r\n\r\n").status, 400);
  EXPECT_EQ(RawHttp(*debug_port, "GET /x%zz HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(RawHttp(*monitoring_port, "GET metrics HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(HttpGet(*debug_port, "/nowhere").status, 404);
  EXPECT_EQ(HttpGet(*debug_port, "/ready").status, 200);

  // SIGTERM: the stream is ended by the server and the process exits 0.
  EXPECT_EQ(pilot.SignalAndWait(SIGTERM, kDeadline), 0) << pilot.Log();
  EXPECT_FALSE(stream.AwaitEnd().ok());
}

// "::" listens on every interface of both families, as Istio's pilot does.
// meshConfig.outboundTrafficPolicy through --outbound-traffic-policy: with REGISTRY_ONLY the
// virtual outbound listener's default chain (destinations outside the registry) is the black hole.
TEST(Pilot, OutboundTrafficPolicyRegistryOnlyBlackHolesUnknownDestinations) {
  for (const std::string policy : {"ALLOW_ANY", "REGISTRY_ONLY"}) {
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    CopyData(dir, "services.yaml", "services.yaml");
    CopyData(dir, "pods.yaml", "pods.yaml");
    auto args = PortZeroArgs(dir.path());
    args.insert(args.end(), {"--outbound-traffic-policy", policy});
    PilotProcess pilot(args);
    auto debug_port = pilot.WaitForPort("debug", kDeadline);
    ASSERT_TRUE(debug_port) << pilot.Log();
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (HttpGet(*debug_port, "/ready").status != 200 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto dump = nlohmann::json::parse(
        HttpGet(*debug_port, "/debug/config_dump?proxyID=sidecar~10.1.1.21~ratings-v1-1.demo~demo.svc.cluster.local").body,
        nullptr, false);
    ASSERT_TRUE(dump.is_object()) << pilot.Log();
    std::string default_cluster;
    for (const auto& l : dump["listeners"]) {
      if (l["name"] == "virtualOutbound") {
        default_cluster = l["defaultFilterChain"]["filters"][0]["typedConfig"]["cluster"].get<std::string>();
      }
    }
    EXPECT_EQ(default_cluster, policy == "ALLOW_ANY" ? "PassthroughCluster" : "BlackHoleCluster") << policy;
  }
  PilotProcess bad({"--config-dir", "/tmp", "--outbound-traffic-policy", "ALLOW_SOME"});
  EXPECT_EQ(bad.Wait(kDeadline), 2);
  EXPECT_THAT(bad.Log(), HasSubstr("bad --outbound-traffic-policy \"ALLOW_SOME\""));
}

TEST(Pilot, ListensOnIpv6AndIpv4WithTheUnspecifiedIpv6Address) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  CopyData(dir, "services.yaml", "services.yaml");
  auto args = PortZeroArgs(dir.path());
  auto at = std::find(args.begin(), args.end(), "--listen-address");
  ASSERT_NE(at, args.end());
  *(at + 1) = "::";
  PilotProcess pilot(args);
  ASSERT_TRUE(pilot.started());
  auto xds_port = pilot.WaitForPort("xds", kDeadline);
  auto debug_port = pilot.WaitForPort("debug", kDeadline);
  auto monitoring_port = pilot.WaitForPort("monitoring", kDeadline);
  ASSERT_TRUE(xds_port && debug_port && monitoring_port) << pilot.Log();
  EXPECT_EQ(HttpGet(*debug_port, "/ready", "::1").status, 200) << pilot.Log();
  EXPECT_EQ(HttpGet(*debug_port, "/ready", "127.0.0.1").status, 200);
  EXPECT_EQ(HttpGet(*monitoring_port, "/metrics", "::1").status, 200);

  auto channel = grpc::CreateChannel("[::1]:" + std::to_string(*xds_port), grpc::InsecureChannelCredentials());
  auto stub = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel);
  xds::testing::SotwTestStream stream(*stub, &xds::testing::AdsStub::StreamAggregatedResources);
  ASSERT_TRUE(stream.Send(Request(kClusterType)));
  auto cds = NextOfType(stream, kClusterType);
  ASSERT_TRUE(cds) << pilot.Log();
  EXPECT_THAT(ClusterNames(*cds), ::testing::Contains("outbound|9080||ratings.demo.svc.cluster.local"));
  EXPECT_EQ(pilot.SignalAndWait(SIGTERM, kDeadline), 0) << pilot.Log();
}

// Polls /metrics until `series` has `value`; the last value seen otherwise.
std::optional<double> AwaitMetric(int port, const std::string& series, double value) {
  std::optional<double> seen;
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = MetricValue(HttpGet(port, "/metrics").body, series);
    if (seen == value) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return seen;
}

// A proxyless gRPC client (GENERATOR=grpc) dialling xds:///ratings:9080 from the web pod: LDS by
// that exact name, then RDS by the name the listener gives. When its stream ends, the pilot
// forgets the proxy.
TEST(Pilot, ServesProxylessGrpcClientAndForgetsItWhenItsStreamEnds) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  CopyData(dir, "services.yaml", "services.yaml");
  CopyData(dir, "pods.yaml", "pods.yaml");
  CopyData(dir, "destination_rule.yaml", "destination_rule.yaml");
  CopyData(dir, "virtual_service_v2.yaml", "virtual_service.yaml");
  PilotProcess pilot(PortZeroArgs(dir.path()));
  ASSERT_TRUE(pilot.started());
  auto xds_port = pilot.WaitForPort("xds", kDeadline);
  auto monitoring_port = pilot.WaitForPort("monitoring", kDeadline);
  ASSERT_TRUE(xds_port && monitoring_port) << pilot.Log();

  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(*xds_port), grpc::InsecureChannelCredentials());
  auto stub = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel);
  auto stream = std::make_unique<xds::testing::SotwTestStream>(*stub, &xds::testing::AdsStub::StreamAggregatedResources);
  DiscoveryRequest lds = Request(kListenerType, {"ratings:9080"});
  (*lds.mutable_node()->mutable_metadata()->mutable_fields())["GENERATOR"].set_string_value("grpc");
  ASSERT_TRUE(stream->Send(lds));
  auto response = stream->Next(kDeadline);
  ASSERT_TRUE(response) << pilot.Log();
  ASSERT_EQ(response->type_url(), kListenerType);
  // Exactly the listener asked for, although the pilot holds one for every name of every service.
  ASSERT_EQ(response->resources_size(), 1);
  envoy::config::listener::v3::Listener listener;
  ASSERT_TRUE(response->resources(0).UnpackTo(&listener));
  EXPECT_EQ(listener.name(), "ratings:9080");
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  ASSERT_TRUE(listener.api_listener().api_listener().UnpackTo(&hcm));
  EXPECT_EQ(hcm.rds().route_config_name(), "outbound|9080||ratings.demo.svc.cluster.local");

  DiscoveryRequest ack = Request(kListenerType, {"ratings:9080"});
  ack.set_version_info(response->version_info());
  ack.set_response_nonce(response->nonce());
  ASSERT_TRUE(stream->Send(ack));
  ASSERT_TRUE(stream->Send(Request(kRouteType, {hcm.rds().route_config_name()})));
  auto rds = stream->Next(kDeadline);
  ASSERT_TRUE(rds) << pilot.Log();
  ASSERT_EQ(rds->type_url(), kRouteType);
  // virtual_service_v2.yaml sends ratings to v2.
  EXPECT_THAT(RouteClusters(*rds), ::testing::Contains(HasSubstr("-> outbound|9080|v2|ratings.demo.svc.cluster.local")));

  // A hand-written gRPC bootstrap with a plain node id and NAMESPACE metadata is served too,
  // resolving short names in that namespace.
  {
    xds::testing::SotwTestStream plain(*stub, &xds::testing::AdsStub::StreamAggregatedResources);
    DiscoveryRequest request;
    request.set_type_url(kListenerType);
    request.add_resource_names("ratings:9080");
    request.mutable_node()->set_id("my-grpc-client");
    auto& metadata = *request.mutable_node()->mutable_metadata()->mutable_fields();
    metadata["GENERATOR"].set_string_value("grpc");
    metadata["NAMESPACE"].set_string_value("demo");
    ASSERT_TRUE(plain.Send(request));
    auto plain_lds = plain.Next(kDeadline);
    ASSERT_TRUE(plain_lds) << pilot.Log();
    ASSERT_EQ(plain_lds->resources_size(), 1);
    envoy::config::listener::v3::Listener plain_listener;
    ASSERT_TRUE(plain_lds->resources(0).UnpackTo(&plain_listener));
    EXPECT_EQ(plain_listener.name(), "ratings:9080");
    EXPECT_THAT(pilot.Log(), HasSubstr("\"my-grpc-client\" has no Istio node id"));
    EXPECT_TRUE(plain.Close().ok());
  }

  EXPECT_EQ(AwaitMetric(*monitoring_port, "cmesh_xds_proxies", 1), 1);
  EXPECT_EQ(AwaitMetric(*monitoring_port, "cmesh_xds_snapshot_groups", 1), 1);
  // The client goes away: its stream closes, and the proxy and its group are released.
  EXPECT_TRUE(stream->Close().ok());
  stream.reset();
  EXPECT_EQ(AwaitMetric(*monitoring_port, "pilot_xds", 0), 0);
  EXPECT_EQ(AwaitMetric(*monitoring_port, "cmesh_xds_proxies", 0), 0);
  EXPECT_EQ(AwaitMetric(*monitoring_port, "cmesh_xds_snapshot_groups", 0), 0);
  EXPECT_EQ(pilot.SignalAndWait(SIGTERM, kDeadline), 0) << pilot.Log();
}

}  // namespace
}  // namespace cmesh::testing
