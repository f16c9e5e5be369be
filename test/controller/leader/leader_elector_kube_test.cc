// Leader election on a real kube-apiserver (the ctest fixture `kube`): two replicas, each with its
// own RestKubeClient, compete for one Lease in a namespace of the test's own.
//
// These tests wait on real time; the bounds they check are the protocol's, with generous slack on
// the side that a slow machine can stretch (how soon a handover happens), and none on the side it
// cannot (how soon a takeover may happen at the earliest).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "admin_client.h"
#include "cmesh/leader/identity.h"
#include "cmesh/leader/leader_elector.h"
#include "kube_env.h"

namespace cmesh::leader {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One replica: its own API client and elector, counting its callbacks.
struct Replica {
  Replica(const std::string& ns, const std::string& pod, LeaderElectionConfig config)
      : client(testing::AdminKubeClient()) {
    config.lease_namespace = ns;
    config.lease_name = "cmesh-pilot-leader";
    config.identity = MakeLeaderIdentity(pod);
    if (client) {
      elector = std::make_unique<LeaderElector>(*client, config,
                                                LeaderCallbacks{[this] { started++; }, [this] { stopped++; }});
    }
  }
  std::unique_ptr<kube::KubeClient> client;
  std::unique_ptr<LeaderElector> elector;
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
};

LeaderElectionConfig Timing(std::chrono::seconds lease, std::chrono::seconds renew, std::chrono::milliseconds retry) {
  LeaderElectionConfig config;
  config.lease_duration = lease;
  config.renew_deadline = renew;
  config.retry_period = retry;
  return config;
}

// Waits up to `limit` for `predicate`, checking every 50 ms.
template <typename Predicate>
bool WaitUntil(std::chrono::milliseconds limit, Predicate predicate) {
  auto deadline = Clock::now() + limit;
  while (!predicate()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

nlohmann::json LeaseSpec(const std::string& ns) {
  auto result = testing::RunKubectl({"get", "lease", "cmesh-pilot-leader", "-n", ns, "-o", "json"});
  if (result.exit_code != 0) return nullptr;
  return nlohmann::json::parse(result.out, nullptr, false).value("spec", nlohmann::json());
}

class LeaderElectorKubeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CMESH_REQUIRE_KUBE();
    ns_ = std::make_unique<testing::KubeNamespace>();
    ASSERT_EQ(ns_->error(), "");
  }
  std::unique_ptr<testing::KubeNamespace> ns_;
};

TEST_F(LeaderElectorKubeTest, TwoReplicasOnOneLeaseExactlyOneLeads) {
  auto config = Timing(4s, 3s, 500ms);
  Replica a(ns_->name(), "cmesh-pilot-a", config);
  Replica b(ns_->name(), "cmesh-pilot-b", config);
  ASSERT_TRUE(a.elector && b.elector);
  a.elector->Start();
  b.elector->Start();
  ASSERT_TRUE(WaitUntil(30s, [&] { return a.elector->IsLeader() || b.elector->IsLeader(); }));
  Replica& leader = a.elector->IsLeader() ? a : b;
  // Several lease durations: the leader keeps renewing, the other never leads.
  auto until = Clock::now() + 10s;
  while (Clock::now() < until) {
    ASSERT_FALSE(a.elector->IsLeader() && b.elector->IsLeader()) << "two leaders at once";
    ASSERT_TRUE(leader.elector->IsLeader()) << "the leader lost a lease it kept renewing";
    std::this_thread::sleep_for(100ms);
  }
  nlohmann::json spec = LeaseSpec(ns_->name());
  EXPECT_EQ(spec.value("holderIdentity", ""), leader.elector->identity()) << spec.dump();
  EXPECT_EQ(spec.value("leaseDurationSeconds", 0), 4);
  EXPECT_EQ(spec.value("leaseTransitions", -1), 0);
  EXPECT_EQ(a.started + b.started, 1);
  a.elector->Stop();
  b.elector->Stop();
}

TEST_F(LeaderElectorKubeTest, AKilledLeaderIsReplacedAfterTheLeaseExpires) {
  auto config = Timing(4s, 3s, 500ms);
  Replica a(ns_->name(), "cmesh-pilot-a", config);
  ASSERT_TRUE(a.elector);
  a.elector->Start();
  ASSERT_TRUE(WaitUntil(30s, [&] { return a.elector->IsLeader(); }));
  Replica b(ns_->name(), "cmesh-pilot-b", config);
  ASSERT_TRUE(b.elector);
  b.elector->Start();
  std::this_thread::sleep_for(2s);  // b watches a renew for a while
  ASSERT_FALSE(b.elector->IsLeader());

  auto killed = Clock::now();
  a.elector->Stop(LeaderElector::StopMode::kKeepLease);  // as if the process died: no release
  ASSERT_EQ(LeaseSpec(ns_->name()).value("holderIdentity", ""), a.elector->identity());
  ASSERT_TRUE(WaitUntil(60s, [&] { return b.elector->IsLeader(); })) << "no handover";
  auto handover = Clock::now() - killed;
  // a's last renewal was at most one retry period before the kill, and b may take over no sooner
  // than a lease duration after it saw that renewal: never before lease - retry after the kill.
  EXPECT_GE(handover, 4s - 500ms) << "taken over before the lease could have expired";
  std::cout << "handover after a kill: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(handover).count()
            << " ms (lease 4 s + retry 0.5 s is the protocol's bound, plus API latency)\n";
  nlohmann::json spec = LeaseSpec(ns_->name());
  EXPECT_EQ(spec.value("holderIdentity", ""), b.elector->identity());
  EXPECT_EQ(spec.value("leaseTransitions", -1), 1);
  b.elector->Stop();
}

TEST_F(LeaderElectorKubeTest, AReleasedLeaseIsTakenWithoutWaitingForItToExpire) {
  // A long lease (15 s, the default) and a short retry period: after a release the other replica
  // must take over at its next attempt, far sooner than the 15 s an expiry would take.
  auto config = Timing(15s, 10s, 500ms);
  Replica a(ns_->name(), "cmesh-pilot-a", config);
  ASSERT_TRUE(a.elector);
  a.elector->Start();
  ASSERT_TRUE(WaitUntil(30s, [&] { return a.elector->IsLeader(); }));
  Replica b(ns_->name(), "cmesh-pilot-b", config);
  ASSERT_TRUE(b.elector);
  b.elector->Start();
  std::this_thread::sleep_for(1s);
  ASSERT_FALSE(b.elector->IsLeader());

  auto released = Clock::now();
  a.elector->Stop();  // clean shutdown: release
  EXPECT_EQ(a.stopped, 1);
  ASSERT_TRUE(WaitUntil(60s, [&] { return b.elector->IsLeader(); })) << "no handover";
  auto handover = Clock::now() - released;
  EXPECT_LT(handover, 15s - 500ms) << "b waited for expiry: the release did not work";
  std::cout << "handover after a release: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(handover).count() << " ms\n";
  nlohmann::json spec = LeaseSpec(ns_->name());
  EXPECT_EQ(spec.value("holderIdentity", ""), b.elector->identity());
  EXPECT_EQ(spec.value("leaseTransitions", -1), 1);
  b.elector->Stop();
  spec = LeaseSpec(ns_->name());
  EXPECT_FALSE(spec.contains("holderIdentity")) << "b released it too: " << spec.dump();
}

}  // namespace
}  // namespace cmesh::leader
