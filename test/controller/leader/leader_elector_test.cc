// The lease protocol, driven by a manual clock against an in-memory API. The real-apiserver
// counterpart is leader_elector_kube_test.cc.
#include "cmesh/leader/leader_elector.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cmesh/leader/identity.h"
#include "fake_election_clock.h"
#include "fake_kube_client.h"

namespace cmesh::leader {
namespace {

using namespace std::chrono_literals;
using cmesh::testing::FakeElectionClock;
using cmesh::testing::FakeKubeClient;

constexpr const char* kNamespace = "istio-system";
constexpr const char* kLease = "cmesh-pilot-leader";

// The MicroTime the fake clock shows `offset` after it started (2027-01-15T08:00:00Z).
std::string WallAt(std::chrono::seconds offset) {
  return FormatMicroTime(std::chrono::system_clock::time_point(FakeElectionClock::kWallStart + offset));
}

// Records the callbacks, which arrive on the elector's callback thread.
class Events {
 public:
  LeaderCallbacks Callbacks(const std::string& who) {
    return {[this, who] { Add(who + " started"); }, [this, who] { Add(who + " stopped"); }};
  }
  void Add(const std::string& event) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(event);
    cv_.notify_all();
  }
  // Waits (up to 10 real seconds) for `count` events and returns what has arrived.
  std::vector<std::string> WaitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, 10s, [&] { return events_.size() >= count; });
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

class LeaderElectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<LeaderElector> MakeElector(const std::string& identity) {
    LeaderElectionConfig config;
    config.lease_namespace = kNamespace;
    config.lease_name = kLease;
    config.identity = identity;
    return std::make_unique<LeaderElector>(client_, config, events_.Callbacks(identity), &clock_);
  }
  nlohmann::json Lease() {
    auto lease = client_.Peek(LeaseResource(), kNamespace, kLease);
    return lease ? *lease : nlohmann::json();
  }
  // Moves the clock `step` at a time for `total`, letting `threads` election threads catch up.
  void Run(std::chrono::seconds total, int threads, std::chrono::seconds step = 1s) {
    for (auto done = 0s; done < total; done += step) {
      clock_.Advance(step);
      ASSERT_TRUE(clock_.WaitForSleepers(threads));
    }
  }
  // Puts a Lease held by someone else, as another replica would have written it.
  void PutForeignLease(const std::string& holder, int duration_seconds, const std::string& renew_time) {
    client_.Put(LeaseResource(), {{"apiVersion", "coordination.k8s.io/v1"},
                                  {"kind", "Lease"},
                                  {"metadata", {{"name", kLease}, {"namespace", kNamespace}}},
                                  {"spec",
                                   {{"holderIdentity", holder},
                                    {"leaseDurationSeconds", duration_seconds},
                                    {"acquireTime", "2000-01-01T00:00:00.000000Z"},
                                    {"renewTime", renew_time},
                                    {"leaseTransitions", 4}}}});
  }

  FakeKubeClient client_;
  FakeElectionClock clock_;
  Events events_;
};

TEST_F(LeaderElectorTest, CreatesAMissingLeaseAndRenewsItEveryRetryPeriod) {
  auto a = MakeElector("a");
  a->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  EXPECT_TRUE(a->IsLeader());
  EXPECT_EQ(events_.WaitFor(1), std::vector<std::string>{"a started"});
  nlohmann::json spec = Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["acquireTime"], "2027-01-15T08:00:00.000000Z");
  EXPECT_EQ(spec["renewTime"], "2027-01-15T08:00:00.000000Z");

  Run(2s, 1);  // one retry period: a renewal
  spec = Lease()["spec"];
  EXPECT_EQ(spec["renewTime"], "2027-01-15T08:00:02.000000Z");
  EXPECT_EQ(spec["acquireTime"], "2027-01-15T08:00:00.000000Z") << "a renewal keeps the acquire time";
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_TRUE(a->IsLeader());
  a->Stop();
}

TEST_F(LeaderElectorTest, TwoCandidatesOnOneLeaseExactlyOneLeads) {
  auto a = MakeElector("a");
  auto b = MakeElector("b");
  a->Start();
  b->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(2));
  for (int second = 0; second < 40; ++second) {
    ASSERT_NE(a->IsLeader(), b->IsLeader()) << "at " << second << " s";
    EXPECT_EQ(Lease()["spec"]["holderIdentity"], a->IsLeader() ? "a" : "b");
    Run(1s, 2);
  }
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 0) << "the first holder kept it all along";
  a->Stop();
  b->Stop();
}

TEST_F(LeaderElectorTest, TakesOverAKilledHoldersLeaseOnlyAfterTheLeaseDuration) {
  auto a = MakeElector("a");
  a->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  auto b = MakeElector("b");
  b->Start();  // observes a's record at t=0, the last time it changes
  ASSERT_TRUE(clock_.WaitForSleepers(2));
  a->Stop(LeaderElector::StopMode::kKeepLease);  // a dies without releasing
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "a");

  // b tries every 2 s; the record stopped changing at t=0, so it is valid until t=15 on b's clock,
  // and b's first attempt at or after that is at t=16.
  Run(15s, 1);
  EXPECT_FALSE(b->IsLeader()) << "taken over before the lease expired";
  Run(1s, 1);
  EXPECT_TRUE(b->IsLeader());
  nlohmann::json spec = Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  EXPECT_EQ(spec["acquireTime"], WallAt(16s));
  b->Stop();
  EXPECT_EQ(events_.WaitFor(4), (std::vector<std::string>{"a started", "a stopped", "b started", "b stopped"}));
}

TEST_F(LeaderElectorTest, JudgesExpiryOnItsOwnClockNotOnTheHoldersRenewTime) {
  // renewTime says the holder last renewed in 2000: by wall clocks it expired long ago. We still
  // wait a whole lease duration (the record's own 20 s) from when we first saw it.
  PutForeignLease("ghost", 20, "2000-01-01T00:00:00.000000Z");
  auto b = MakeElector("b");
  b->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  EXPECT_FALSE(b->IsLeader());
  Run(19s, 1);
  EXPECT_FALSE(b->IsLeader());
  Run(1s, 1);  // t=20: the attempt at t=20 finds the record unchanged for 20 s
  EXPECT_TRUE(b->IsLeader());
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 5);
  EXPECT_EQ(Lease()["spec"]["leaseDurationSeconds"], 15) << "the new holder writes its own duration";
  b->Stop();
}

TEST_F(LeaderElectorTest, ARenewingHolderKeepsTheLease) {
  PutForeignLease("ghost", 15, "2000-01-01T00:00:00.000000Z");
  auto b = MakeElector("b");
  b->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  // The holder renews every 10 s (any change of the record restarts the 15 s on our clock).
  for (int renewal = 1; renewal <= 6; ++renewal) {
    Run(10s, 1);
    PutForeignLease("ghost", 15, WallAt(std::chrono::seconds(10 * renewal)));
  }
  EXPECT_FALSE(b->IsLeader());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "ghost");
  b->Stop();
}

TEST_F(LeaderElectorTest, StepsDownWhenRenewalsFailForTheRenewDeadline) {
  auto a = MakeElector("a");
  a->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  ASSERT_TRUE(a->IsLeader());
  // The apiserver becomes unreachable: last successful renewal at t=0, deadline 10 s.
  client_.SetHook([](const std::string&, const kube::ResourceKind&, const nlohmann::json&) {
    return std::optional<kube::KubeError>(kube::KubeError{0, "", "connection refused"});
  });
  Run(9s, 1);
  EXPECT_TRUE(a->IsLeader()) << "attempts at 2..8 s fail, but within the renew deadline";
  Run(1s, 1);
  EXPECT_FALSE(a->IsLeader()) << "the attempt at 10 s fails too: 10 s without a renewal";
  EXPECT_EQ(events_.WaitFor(2), (std::vector<std::string>{"a started", "a stopped"}));

  // The apiserver comes back: the lease still names us, so we take it again, with no transition.
  client_.SetHook(nullptr);
  Run(2s, 1);
  EXPECT_TRUE(a->IsLeader());
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 0);
  EXPECT_EQ(events_.WaitFor(3).back(), "a started");
  a->Stop();
}

TEST_F(LeaderElectorTest, StepsDownAtOnceWhenAnotherHolderTookTheLease) {
  auto a = MakeElector("a");
  a->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  PutForeignLease("usurper", 15, WallAt(0s));
  Run(2s, 1);  // the renewal at t=2 reads the lease and sees it is not ours
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "usurper");
  a->Stop();
}

TEST_F(LeaderElectorTest, ReleaseOnStopHandsOverAtTheNextAttempt) {
  auto a = MakeElector("a");
  a->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  auto b = MakeElector("b");
  b->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(2));
  a->Stop();  // release
  EXPECT_FALSE(a->IsLeader());
  nlohmann::json spec = Lease()["spec"];
  EXPECT_FALSE(spec.contains("holderIdentity")) << spec.dump();
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec["leaseTransitions"], 0);

  Run(2s, 1);  // b's next attempt, long before the 15 s lease duration
  EXPECT_TRUE(b->IsLeader());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "b");
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 1);
  b->Stop(LeaderElector::StopMode::kKeepLease);
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "b") << "kKeepLease leaves the lease alone";
}

TEST_F(LeaderElectorTest, AConflictingWriteIsAFailedAttemptNotALeadership) {
  // Every lease update conflicts (another replica keeps winning the race): never leader.
  PutForeignLease("", 15, WallAt(0s));
  client_.SetHook([](const std::string& verb, const kube::ResourceKind&, const nlohmann::json&) {
    return verb == "update" ? std::optional<kube::KubeError>(kube::KubeError{409, "Conflict", "modified"})
                            : std::nullopt;
  });
  auto a = MakeElector("a");
  a->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  Run(6s, 1);
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(client_.Calls("update"), 4) << "attempts at t=0, 2, 4, 6";
  a->Stop();
  EXPECT_TRUE(events_.WaitFor(0).empty());
}

TEST(LeaderElectionConfigTest, TheHolderMustGiveUpBeforeOthersMayTakeOver) {
  LeaderElectionConfig config;
  config.identity = "a";
  EXPECT_EQ(ValidateLeaderElectionConfig(config), "") << "the defaults: 15 s, 10 s, 2 s";
  LeaderElectionConfig bad = config;
  bad.renew_deadline = 15s;
  EXPECT_NE(ValidateLeaderElectionConfig(bad), "");
  bad = config;
  bad.retry_period = 10s;
  EXPECT_NE(ValidateLeaderElectionConfig(bad), "");
  bad = config;
  bad.identity = "";
  EXPECT_NE(ValidateLeaderElectionConfig(bad), "");
  bad = config;
  bad.lease_duration = 500ms;
  EXPECT_NE(ValidateLeaderElectionConfig(bad), "");
}

TEST(LeaderIdentityTest, PodNameWithARandomSuffix) {
  std::string first = MakeLeaderIdentity("cmesh-pilot-7d9f");
  std::string second = MakeLeaderIdentity("cmesh-pilot-7d9f");
  EXPECT_EQ(first.rfind("cmesh-pilot-7d9f_", 0), 0u) << first;
  EXPECT_EQ(first.size(), std::string("cmesh-pilot-7d9f_").size() + 8);
  EXPECT_NE(first, second);
  EXPECT_FALSE(MakeLeaderIdentity("").empty());
}

TEST(LeaseRecordTest, MicroTimeHasSixFractionalDigitsInUtc) {
  auto time = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000) + std::chrono::microseconds(42));
  EXPECT_EQ(FormatMicroTime(time), "2027-01-15T08:00:00.000042Z");
}

}  // namespace
}  // namespace cmesh::leader
