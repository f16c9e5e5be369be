// The resilience settings of a cluster (circuit breakers, retry budget, outlier detection) as
// parsed from CDS, the shared ClusterRuntime's decisions driven with a fake clock, the balancer
// skipping ejected endpoints, and the pool's queue at the connection limit on real sockets.
#include <google/protobuf/text_format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/upstream/cluster_info.h"
#include "cmesh/upstream/cluster_runtime.h"
#include "cmesh/upstream/connection_pool.h"
#include "cmesh/upstream/load_balancer.h"

namespace cmesh::upstream {
namespace {

using envoy::config::cluster::v3::Cluster;
using ::testing::HasSubstr;
using std::chrono::milliseconds;
using std::chrono::seconds;

Cluster ParseCluster(const std::string& text) {
  Cluster cluster;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &cluster)) << text;
  return cluster;
}

std::shared_ptr<const ClusterInfo> Build(const std::string& text, std::string* error = nullptr) {
  std::string scratch;
  return BuildCluster(ParseCluster(text), nullptr, error ? error : &scratch);
}

// ---- parsing -----------------------------------------------------------------------------------

TEST(CircuitBreakerConfigTest, EnvoyDefaultsWithoutThresholds) {
  auto info = Build(R"pb(name: "c" type: EDS)pb");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->thresholds.max_connections, 1024u);
  EXPECT_EQ(info->thresholds.max_pending_requests, 1024u);
  EXPECT_EQ(info->thresholds.max_requests, 1024u);
  EXPECT_EQ(info->thresholds.max_retries, 3u);  // Envoy's default for retries is 3, not 1024
  EXPECT_FALSE(info->thresholds.retry_budget.has_value());
  EXPECT_FALSE(info->outlier.has_value());
  EXPECT_EQ(info->healthy_panic_threshold, 50u);
}

TEST(CircuitBreakerConfigTest, IstioThresholdsOfTheDefaultPriority) {
  // What cmesh's compiler emits for connectionPool {tcp {maxConnections: 1} http
  // {http1MaxPendingRequests: 1}}: Istio's "unlimited" elsewhere, and a HIGH entry ignored.
  auto info = Build(R"pb(
    name: "c" type: EDS
    circuit_breakers {
      thresholds { max_connections { value: 1 } max_pending_requests { value: 1 }
                   max_requests { value: 4294967295 } max_retries { value: 4294967295 } track_remaining: true }
      thresholds { priority: HIGH max_connections { value: 7 } }
    })pb");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->thresholds.max_connections, 1u);
  EXPECT_EQ(info->thresholds.max_pending_requests, 1u);
  EXPECT_EQ(info->thresholds.max_requests, 4294967295u);
  EXPECT_EQ(info->thresholds.max_retries, 4294967295u);
}

TEST(CircuitBreakerConfigTest, RetryBudgetDefaultsAndValues) {
  auto info = Build(R"pb(name: "c" type: EDS circuit_breakers { thresholds { retry_budget {} } })pb");
  ASSERT_NE(info, nullptr);
  ASSERT_TRUE(info->thresholds.retry_budget.has_value());
  EXPECT_DOUBLE_EQ(info->thresholds.retry_budget->budget_percent, 20.0);
  EXPECT_EQ(info->thresholds.retry_budget->min_retry_concurrency, 3u);
  info = Build(R"pb(name: "c" type: EDS circuit_breakers { thresholds { retry_budget {
    budget_percent { value: 50 } min_retry_concurrency { value: 1 } } } })pb");
  ASSERT_NE(info, nullptr);
  EXPECT_DOUBLE_EQ(info->thresholds.retry_budget->budget_percent, 50.0);
  EXPECT_EQ(info->thresholds.retry_budget->min_retry_concurrency, 1u);
}

TEST(CircuitBreakerConfigTest, UnsupportedFieldsAreRefused) {
  std::string error;
  EXPECT_EQ(Build(R"pb(name: "c" type: EDS circuit_breakers { per_host_thresholds { max_connections { value: 1 } } })pb",
                  &error),
            nullptr);
  EXPECT_THAT(error, HasSubstr("per_host_thresholds"));
  EXPECT_EQ(Build(R"pb(name: "c" type: EDS outlier_detection { enforcing_success_rate { value: 100 } })pb", &error),
            nullptr);
  EXPECT_THAT(error, HasSubstr("success-rate"));
}

TEST(OutlierConfigTest, IstioShapeAndEnvoyDefaults) {
  // cmesh's compiler for outlierDetection {consecutive5xxErrors: 1, interval: 1s,
  // baseEjectionTime: 3m, maxEjectionPercent: 100}.
  auto info = Build(R"pb(
    name: "c" type: EDS
    outlier_detection { consecutive_5xx { value: 1 } enforcing_consecutive_5xx { value: 100 }
                        interval { seconds: 1 } base_ejection_time { seconds: 180 }
                        max_ejection_percent { value: 100 } enforcing_success_rate { value: 0 } }
    common_lb_config { healthy_panic_threshold { value: 0 } })pb");
  ASSERT_NE(info, nullptr);
  ASSERT_TRUE(info->outlier.has_value());
  const auto& od = *info->outlier;
  EXPECT_EQ(od.consecutive_5xx, 1u);
  EXPECT_EQ(od.interval, seconds(1));
  EXPECT_EQ(od.base_ejection_time, seconds(180));
  EXPECT_EQ(od.max_ejection_percent, 100u);
  // Unset: Envoy's defaults.
  EXPECT_EQ(od.consecutive_gateway_failure, 5u);
  EXPECT_EQ(od.enforcing_consecutive_gateway_failure, 0u);
  EXPECT_EQ(od.max_ejection_time, seconds(300));
  EXPECT_FALSE(od.split_external_local_origin_errors);
  EXPECT_EQ(info->healthy_panic_threshold, 0u);
}

// ---- the shared runtime ------------------------------------------------------------------------

TEST(RetryBudgetTest, LimitIsTheLargerOfTheFloorAndThePercentage) {
  CircuitBreakerThresholds t;
  t.max_retries = 3;
  EXPECT_EQ(ClusterRuntime::RetryLimit(t, 1000), 3u);  // no budget: max_retries, whatever the load
  t.retry_budget = RetryBudget{};
  EXPECT_EQ(ClusterRuntime::RetryLimit(t, 10), 3u);     // 20 % of 10 is 2: the floor of 3 holds
  EXPECT_EQ(ClusterRuntime::RetryLimit(t, 100), 20u);   // 20 % of 100
  t.retry_budget->budget_percent = 25;
  t.retry_budget->min_retry_concurrency = 0;
  EXPECT_EQ(ClusterRuntime::RetryLimit(t, 100), 25u);
  EXPECT_EQ(ClusterRuntime::RetryLimit(t, 3), 0u);
}

TEST(RetryBudgetTest, CanRetryCountsActiveAndPendingRequests) {
  ClusterInfo info;
  info.thresholds.retry_budget = RetryBudget{};
  ClusterRuntime runtime("c");
  runtime.requests = 90;
  runtime.pending = 10;  // 100 outstanding: 20 retries allowed
  runtime.retries = 19;
  EXPECT_TRUE(runtime.CanRetry(info, false));
  runtime.retries = 20;
  EXPECT_FALSE(runtime.CanRetry(info, false));
  // A request already holding a retry slot is checked without it (Envoy releases it first).
  EXPECT_TRUE(runtime.CanRetry(info, true));
}

TEST(RetryBudgetTest, TryAcquireStopsAtTheLimit) {
  std::atomic<std::uint64_t> counter{0};
  EXPECT_TRUE(TryAcquire(counter, 2));
  EXPECT_TRUE(TryAcquire(counter, 2));
  EXPECT_FALSE(TryAcquire(counter, 2));
  Release(counter);
  EXPECT_TRUE(TryAcquire(counter, 2));
  EXPECT_EQ(counter.load(), 2u);
}

// A cluster of `n` hosts with outlier detection `od`, and the runtime's health of each.
struct Outliers {
  Outliers(std::size_t n, OutlierDetectionConfig od) : runtime("c") {
    for (std::size_t i = 0; i < n; ++i) info.hosts.push_back(Host{{"10.0.0." + std::to_string(i + 1), 80}, 1});
    info.total_weight = n;
    info.outlier = od;
    health = runtime.ApplyConfig(info);
  }
  bool Report(std::size_t host, AttemptResult result, int status, event::Clock::time_point at) {
    return runtime.Report(info, health, host, result, status, at, random);
  }
  bool Status(std::size_t host, int status, event::Clock::time_point at) {
    return Report(host, AttemptResult::kResponse, status, at);
  }
  bool Ejected(std::size_t host) const { return health[host]->Ejected(); }
  ClusterInfo info;
  ClusterRuntime runtime;
  std::vector<std::shared_ptr<HostHealth>> health;
  Random random{1};
};

OutlierDetectionConfig Od(std::uint32_t consecutive_5xx, std::uint32_t max_percent = 100) {
  OutlierDetectionConfig od;
  od.consecutive_5xx = consecutive_5xx;
  od.max_ejection_percent = max_percent;
  return od;
}

const event::Clock::time_point kT0 = event::Clock::time_point(seconds(1000));

TEST(OutlierDetectionTest, ConsecutiveFiveHundredsEjectAndASuccessResets) {
  Outliers o(4, Od(3));
  EXPECT_FALSE(o.Status(0, 500, kT0));
  EXPECT_FALSE(o.Status(0, 500, kT0));
  EXPECT_FALSE(o.Status(0, 200, kT0));  // restarts the count
  EXPECT_FALSE(o.Status(0, 500, kT0));
  EXPECT_FALSE(o.Status(0, 502, kT0));
  EXPECT_FALSE(o.Ejected(0));
  EXPECT_TRUE(o.Status(0, 503, kT0));  // the third in a row
  EXPECT_TRUE(o.Ejected(0));
  EXPECT_FALSE(o.Ejected(1));
  EXPECT_EQ(o.runtime.stats.ejections_enforced.load(), 1u);
  EXPECT_EQ(o.health[0]->multiplier.load(), 1u);
}

TEST(OutlierDetectionTest, GatewayFailuresEjectOnlyWhenEnforced) {
  OutlierDetectionConfig od = Od(5);
  od.consecutive_gateway_failure = 2;
  Outliers off(2, od);  // enforcing_consecutive_gateway_failure: Envoy's default 0
  EXPECT_FALSE(off.Status(0, 503, kT0));
  EXPECT_FALSE(off.Status(0, 503, kT0));
  EXPECT_FALSE(off.Ejected(0));
  od.enforcing_consecutive_gateway_failure = 100;
  Outliers on(2, od);
  EXPECT_FALSE(on.Status(0, 504, kT0));
  EXPECT_TRUE(on.Status(0, 502, kT0));
  // A 500 is a 5xx but not a gateway error: it breaks a run of gateway errors.
  EXPECT_FALSE(on.Status(1, 503, kT0));
  EXPECT_FALSE(on.Status(1, 500, kT0));
  EXPECT_FALSE(on.Status(1, 503, kT0));
  EXPECT_FALSE(on.Ejected(1));
}

TEST(OutlierDetectionTest, LocalOriginErrorsAreFoldedInUnlessSplit) {
  Outliers folded(2, Od(2));
  EXPECT_FALSE(folded.Report(0, AttemptResult::kConnectFailure, 0, kT0));
  EXPECT_TRUE(folded.Report(0, AttemptResult::kTimeout, 0, kT0));  // counted as 503 then 504
  OutlierDetectionConfig od = Od(2);
  od.split_external_local_origin_errors = true;
  od.consecutive_local_origin_failure = 3;
  Outliers split(2, od);
  EXPECT_FALSE(split.Report(0, AttemptResult::kConnectFailure, 0, kT0));
  EXPECT_FALSE(split.Report(0, AttemptResult::kConnectFailure, 0, kT0));  // not a 5xx run any more
  EXPECT_FALSE(split.Report(0, AttemptResult::kConnectSuccess, 0, kT0));  // resets the local count
  EXPECT_FALSE(split.Report(0, AttemptResult::kConnectFailure, 0, kT0));
  EXPECT_FALSE(split.Report(0, AttemptResult::kReset, 0, kT0));
  EXPECT_FALSE(split.Ejected(0));
  EXPECT_TRUE(split.Report(0, AttemptResult::kTimeout, 0, kT0));
}

TEST(OutlierDetectionTest, MaxEjectionPercentBoundsTheEjectedHosts) {
  Outliers o(4, Od(1, 50));
  EXPECT_TRUE(o.Status(0, 500, kT0));   // 1 of 4: 25 %
  EXPECT_TRUE(o.Status(1, 500, kT0));   // 2 of 4: 50 %
  EXPECT_FALSE(o.Status(2, 500, kT0));  // 3 of 4 would be 75 %
  EXPECT_FALSE(o.Ejected(2));
  EXPECT_EQ(o.runtime.stats.ejections_overflow.load(), 1u);
}

TEST(OutlierDetectionTest, EnvoysTenPercentDefaultEjectsNothingInASmallClusterUnlessAlwaysEjectOne) {
  Outliers o(3, Od(1, 10));  // one of three is 33 %
  EXPECT_FALSE(o.Status(0, 500, kT0));
  OutlierDetectionConfig od = Od(1, 10);
  od.always_eject_one_host = true;
  Outliers one(3, od);
  EXPECT_TRUE(one.Status(0, 500, kT0));
  EXPECT_FALSE(one.Status(1, 500, kT0));
}

TEST(OutlierDetectionTest, EnforcingZeroNeverEjects) {
  OutlierDetectionConfig od = Od(1);
  od.enforcing_consecutive_5xx = 0;
  Outliers o(2, od);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(o.Status(0, 500, kT0));
}

TEST(OutlierDetectionTest, EjectionLastsBaseTimesEjectionsAndReturnsAtASweep) {
  OutlierDetectionConfig od = Od(1);
  od.interval = seconds(10);
  od.base_ejection_time = seconds(30);
  Outliers o(4, od);
  ASSERT_TRUE(o.Status(0, 500, kT0));
  EXPECT_FALSE(o.runtime.MaybeSweep(o.info, o.health, kT0 + seconds(5)));  // no interval due yet
  EXPECT_TRUE(o.runtime.MaybeSweep(o.info, o.health, kT0 + seconds(10)));
  EXPECT_TRUE(o.Ejected(0));  // 10 s of 30
  EXPECT_FALSE(o.runtime.MaybeSweep(o.info, o.health, kT0 + seconds(12)));  // already swept
  EXPECT_TRUE(o.runtime.MaybeSweep(o.info, o.health, kT0 + seconds(20)));
  EXPECT_TRUE(o.Ejected(0));
  EXPECT_TRUE(o.runtime.MaybeSweep(o.info, o.health, kT0 + seconds(30)));
  EXPECT_FALSE(o.Ejected(0));  // back after 1 x 30 s
  // Ejected again at once: the multiplier is 2 now, so 60 s.
  const auto t1 = kT0 + seconds(30);
  ASSERT_TRUE(o.Status(0, 500, t1));
  EXPECT_EQ(o.health[0]->multiplier.load(), 2u);
  EXPECT_TRUE(o.runtime.MaybeSweep(o.info, o.health, t1 + seconds(50)));
  EXPECT_TRUE(o.Ejected(0));
  EXPECT_TRUE(o.runtime.MaybeSweep(o.info, o.health, t1 + seconds(60)));
  EXPECT_FALSE(o.Ejected(0));
  EXPECT_EQ(o.health[0]->multiplier.load(), 2u);  // no decay at the sweep that returns it
  // The gradual return: one step down per interval without an ejection.
  EXPECT_TRUE(o.runtime.MaybeSweep(o.info, o.health, t1 + seconds(70)));
  EXPECT_EQ(o.health[0]->multiplier.load(), 1u);
  EXPECT_TRUE(o.runtime.MaybeSweep(o.info, o.health, t1 + seconds(80)));
  EXPECT_EQ(o.health[0]->multiplier.load(), 0u);
  ASSERT_TRUE(o.Status(0, 500, t1 + seconds(85)));
  EXPECT_EQ(o.health[0]->multiplier.load(), 1u);  // back to base x 1
}

TEST(OutlierDetectionTest, AQuietPeriodIsCaughtUpAtTheNextSweep) {
  OutlierDetectionConfig od = Od(1);
  od.interval = seconds(10);
  od.base_ejection_time = seconds(10);
  Outliers o(4, od);
  ASSERT_TRUE(o.Status(0, 500, kT0));
  ASSERT_TRUE(o.runtime.MaybeSweep(o.info, o.health, kT0 + seconds(10)));
  ASSERT_FALSE(o.Ejected(0));
  ASSERT_TRUE(o.Status(0, 500, kT0 + seconds(10)));
  ASSERT_TRUE(o.runtime.MaybeSweep(o.info, o.health, kT0 + seconds(30)));  // 2 x 10 s
  ASSERT_FALSE(o.Ejected(0));
  EXPECT_EQ(o.health[0]->multiplier.load(), 2u);
  // Nothing for 100 s (10 intervals): one sweep takes the multiplier down by up to 10.
  EXPECT_TRUE(o.runtime.MaybeSweep(o.info, o.health, kT0 + seconds(130)));
  EXPECT_EQ(o.health[0]->multiplier.load(), 0u);
}

TEST(OutlierDetectionTest, MaxEjectionTimeCapsTheMultiplier) {
  OutlierDetectionConfig od = Od(1);
  od.interval = seconds(1);
  od.base_ejection_time = seconds(30);
  od.max_ejection_time = seconds(60);
  Outliers o(2, od);
  auto t = kT0;
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(o.Status(0, 500, t)) << round;
    // Multiplier: 1, 2, 3, then stays (Envoy grows it while base x m < max + base).
    EXPECT_EQ(o.health[0]->multiplier.load(), static_cast<std::uint32_t>(std::min(round + 1, 3))) << round;
    const auto lasts = std::min(seconds(30) * (round + 1), seconds(60));  // never beyond max
    o.runtime.MaybeSweep(o.info, o.health, t + lasts - seconds(1));
    EXPECT_TRUE(o.Ejected(0)) << round;
    o.runtime.MaybeSweep(o.info, o.health, t + lasts);
    EXPECT_FALSE(o.Ejected(0)) << round;
    t += lasts;
  }
}

TEST(OutlierDetectionTest, StateIsSharedByNameAndByEndpointAcrossConfigChanges) {
  auto& registry = ClusterRuntimeRegistry::Default();
  auto a = registry.For("outbound|80||shared.test");
  auto b = registry.For("outbound|80||shared.test");
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(registry.For("outbound|80||other.test").get(), a.get());
  ClusterInfo v1;
  v1.hosts = {Host{{"10.0.0.1", 80}, 1}, Host{{"10.0.0.2", 80}, 1}};
  auto health_v1 = a->ApplyConfig(v1);
  health_v1[1]->ejected = true;
  // A new cluster object (an endpoint added, the order changed) keeps 10.0.0.2's state.
  ClusterInfo v2;
  v2.hosts = {Host{{"10.0.0.3", 80}, 1}, Host{{"10.0.0.2", 80}, 1}, Host{{"10.0.0.1", 80}, 1}};
  v2.thresholds.max_connections = 7;
  auto health_v2 = a->ApplyConfig(v2);
  EXPECT_EQ(health_v2[1].get(), health_v1[1].get());
  EXPECT_TRUE(health_v2[1]->Ejected());
  EXPECT_FALSE(health_v2[0]->Ejected());
  EXPECT_EQ(a->max_connections(), 7u);
}

// ---- the balancer skips ejected endpoints ------------------------------------------------------

TEST(EjectionBalancingTest, RoundRobinSkipsAnEjectedEndpointAndSpreadsTheRest) {
  Outliers o(4, Od(1));
  o.info.lb_policy = LbPolicy::kRoundRobin;
  o.health[1]->ejected = true;
  LoadBalancer lb(o.info);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 300; ++i) ++counts.at(*lb.Pick(o.info, o.random, nullptr, o.health));
  EXPECT_EQ(counts[1], 0);
  // Each round of the cursor (4 positions) serves 0, 2 and 3 once: exact thirds.
  EXPECT_EQ(counts[0], 100);
  EXPECT_EQ(counts[2], 100);
  EXPECT_EQ(counts[3], 100);
}

TEST(EjectionBalancingTest, LeastRequestAndRandomNeverPickAnEjectedEndpoint) {
  for (LbPolicy policy : {LbPolicy::kLeastRequest, LbPolicy::kRandom}) {
    Outliers o(3, Od(1));
    o.info.lb_policy = policy;
    o.health[0]->ejected = true;
    LoadBalancer lb(o.info);
    for (int i = 0; i < 200; ++i) EXPECT_NE(*lb.Pick(o.info, o.random, nullptr, o.health), 0u);
  }
}

TEST(EjectionBalancingTest, BelowThePanicThresholdEjectionsAreIgnored) {
  Outliers o(4, Od(1));
  o.info.lb_policy = LbPolicy::kRandom;
  o.health[0]->ejected = true;
  o.health[1]->ejected = true;  // 2 of 4 left: 50 %, not below the 50 % threshold
  LoadBalancer lb(o.info);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 400; ++i) ++counts.at(*lb.Pick(o.info, o.random, nullptr, o.health));
  EXPECT_EQ(counts[0] + counts[1], 0);
  o.health[2]->ejected = true;  // 1 of 4 left: 25 %, panic: every endpoint again
  counts.assign(4, 0);
  for (int i = 0; i < 400; ++i) ++counts.at(*lb.Pick(o.info, o.random, nullptr, o.health));
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[2], 0);
  o.info.healthy_panic_threshold = 0;  // panic disabled: only the one left
  counts.assign(4, 0);
  for (int i = 0; i < 400; ++i) ++counts.at(*lb.Pick(o.info, o.random, nullptr, o.health));
  EXPECT_EQ(counts[3], 400);
}

TEST(EjectionBalancingTest, RingHashMovesOnlyTheKeysOfTheEjectedEndpoint) {
  Cluster proto = ParseCluster(R"pb(name: "c" type: EDS lb_policy: RING_HASH)pb");
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  auto* locality = cla.add_endpoints();
  for (int i = 1; i <= 4; ++i) {
    auto* a = locality->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
    a->set_address("10.0.0." + std::to_string(i));
    a->set_port_value(80);
  }
  std::string error;
  auto cluster = BuildCluster(proto, &cla, &error);
  ASSERT_NE(cluster, nullptr) << error;
  ClusterRuntime runtime("ring");
  auto health = runtime.ApplyConfig(*cluster);
  LoadBalancer lb(*cluster);
  Random random(3);
  std::map<int, std::size_t> before;
  for (int user = 0; user < 200; ++user) {
    const std::uint64_t key = HashKey("user-" + std::to_string(user));
    before[user] = *lb.Pick(*cluster, random, &key, health);
  }
  health[2]->ejected = true;
  int moved = 0;
  for (int user = 0; user < 200; ++user) {
    const std::uint64_t key = HashKey("user-" + std::to_string(user));
    const std::size_t now = *lb.Pick(*cluster, random, &key, health);
    EXPECT_NE(now, 2u);
    if (before[user] != 2) {
      EXPECT_EQ(now, before[user]) << user;  // the others' keys stay where they were
    } else {
      ++moved;
      const std::size_t again = *lb.Pick(*cluster, random, &key, health);
      EXPECT_EQ(again, now);  // and the moved ones move consistently
    }
  }
  EXPECT_GT(moved, 0);
}

// ---- the pool at the cluster's connection limit ------------------------------------------------

class LoopThread {
 public:
  LoopThread() : thread_([this] { loop.Run(); }) {}
  ~LoopThread() {
    loop.Stop();
    thread_.join();
  }
  template <typename F>
  auto RunSync(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    loop.Post([&task] { task(); });
    return result.get();
  }
  event::EventLoop loop;

 private:
  std::thread thread_;
};

template <typename F>
bool Eventually(LoopThread& t, F done) {
  const auto until = std::chrono::steady_clock::now() + seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    if (t.RunSync(done)) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return false;
}

struct Listener {
  Listener() {
    std::string error;
    fd = event::ListenTcp({"127.0.0.1", 0}, false, &error);
    EXPECT_GE(fd, 0) << error;
    endpoint = *event::LocalEndpoint(fd);
  }
  ~Listener() {
    for (int a : accepted) ::close(a);
    ::close(fd);
  }
  bool Accept() {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return false;
    const int a = event::AcceptTcp(fd, nullptr);
    if (a >= 0) accepted.push_back(a);
    return a >= 0;
  }
  int fd = -1;
  event::Endpoint endpoint;
  std::vector<int> accepted;
};

struct Recorder : PoolCallbacks {
  void OnPoolReady(UpstreamConnection& c) override {
    connection = &c;
    ++ready;
  }
  void OnPoolFailure(PoolFailure, std::string_view) override { ++failed; }
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  UpstreamConnection* connection = nullptr;
};

TEST(PoolConnectionLimitTest, AtMaxConnectionsRequestsQueueForAReleasedConnection) {
  LoopThread t;
  Listener a, b;
  auto runtime = std::make_shared<ClusterRuntime>("limited");
  ClusterInfo info;
  info.thresholds.max_connections = 1;
  runtime->ApplyConfig(info);
  PoolOptions options;
  auto pool_a = std::make_unique<ConnectionPool>(t.loop, a.endpoint, options);
  auto pool_b = std::make_unique<ConnectionPool>(t.loop, b.endpoint, options);
  t.RunSync([&] {
    pool_a->AttachRuntime(runtime);
    pool_b->AttachRuntime(runtime);
  });
  Recorder r1, r2, r3, r4;
  auto first = t.RunSync([&] { return pool_a->Acquire(r1); });
  EXPECT_NE(first.pending, nullptr);
  EXPECT_FALSE(first.cx_overflow);
  ASSERT_TRUE(a.Accept());
  ASSERT_TRUE(Eventually(t, [&] { return r1.ready.load() == 1; }));
  EXPECT_EQ(runtime->connections.load(), 1u);
  // The cluster is at its limit: the next request waits, no connection is opened.
  auto second = t.RunSync([&] { return pool_a->Acquire(r2); });
  EXPECT_TRUE(second.queued);
  EXPECT_TRUE(second.cx_overflow);
  auto third = t.RunSync([&] { return pool_a->Acquire(r3); });
  EXPECT_TRUE(third.queued);
  t.RunSync([&] { pool_a->CancelWaiting(r3); });
  EXPECT_EQ(t.RunSync([&] { return pool_a->waiting(); }), 1u);
  EXPECT_EQ(t.RunSync([&] { return pool_a->active(); }), 2u);  // r1 and r2
  EXPECT_EQ(runtime->stats.upstream_cx_overflow.load(), 2u);
  // A pool of the same cluster with no connection at all still opens one (as Envoy), so its
  // requests are never stuck behind other endpoints' connections.
  auto other = t.RunSync([&] { return pool_b->Acquire(r4); });
  EXPECT_NE(other.pending, nullptr);
  EXPECT_TRUE(other.cx_overflow);
  ASSERT_TRUE(b.Accept());
  ASSERT_TRUE(Eventually(t, [&] { return r4.ready.load() == 1; }));
  EXPECT_EQ(runtime->connections.load(), 2u);
  // r1 done, connection kept alive: it goes to r2, the first in line.
  UpstreamConnection* shared = r1.connection;
  t.RunSync([&] { pool_a->Release(shared, true); });
  ASSERT_TRUE(Eventually(t, [&] { return r2.ready.load() == 1; }));
  EXPECT_EQ(r2.connection, shared);
  EXPECT_EQ(r3.ready.load(), 0);
  t.RunSync([&] {
    pool_a->Release(r2.connection, false);
    pool_b->Release(r4.connection, false);
  });
  EXPECT_EQ(runtime->connections.load(), 0u);
  t.RunSync([&] {
    pool_a.reset();
    pool_b.reset();
  });
}

TEST(PoolConnectionLimitTest, AClosedConnectionLetsTheNextWaiterConnect) {
  LoopThread t;
  Listener a;
  auto runtime = std::make_shared<ClusterRuntime>("limited2");
  ClusterInfo info;
  info.thresholds.max_connections = 1;
  runtime->ApplyConfig(info);
  auto pool = std::make_unique<ConnectionPool>(t.loop, a.endpoint, PoolOptions{});
  t.RunSync([&] { pool->AttachRuntime(runtime); });
  Recorder r1, r2;
  t.RunSync([&] { return pool->Acquire(r1); });
  ASSERT_TRUE(a.Accept());
  ASSERT_TRUE(Eventually(t, [&] { return r1.ready.load() == 1; }));
  EXPECT_TRUE(t.RunSync([&] { return pool->Acquire(r2); }).queued);
  t.RunSync([&] { pool->Release(r1.connection, /*keep_alive=*/false); });  // closed: room for one
  ASSERT_TRUE(a.Accept());
  ASSERT_TRUE(Eventually(t, [&] { return r2.ready.load() == 1; }));
  EXPECT_NE(r2.connection, nullptr);
  EXPECT_EQ(runtime->connections.load(), 1u);
  t.RunSync([&] {
    pool->Release(r2.connection, false);
    pool.reset();
  });
}

}  // namespace
}  // namespace cmesh::upstream
