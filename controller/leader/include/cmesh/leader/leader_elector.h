// Leader election through a coordination.k8s.io/v1 Lease, with client-go's leaderelection
// semantics: a replica acquires a Lease that is missing, released (no holder) or expired, renews it
// by conditional Update (resourceVersion), and steps down when it could not renew for the renew
// deadline. "Expired" is judged on our own monotonic clock: a lease expires when its record has not
// changed for leaseDurationSeconds since we first saw that record, so clock skew between replicas
// does not matter.
//
// Safety margin: the holder steps down after renew_deadline without a successful renewal, which is
// shorter than lease_duration, the time the others wait before taking over.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cmesh/kube/kube_client.h"
#include "cmesh/leader/election_clock.h"
#include "cmesh/leader/lease_record.h"

namespace cmesh::leader {

struct LeaderElectionConfig {
  std::string lease_namespace = "istio-system";
  std::string lease_name = "cmesh-pilot-leader";
  std::string identity;  // MakeLeaderIdentity(pod name)
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
};

// "" when the settings make sense (names and identity set; 0 < retry_period < renew_deadline <
// lease_duration, lease_duration at least 1 s: the holder must give up before others may take
// over), else what is wrong. The elector does not check: its owner should, at startup.
std::string ValidateLeaderElectionConfig(const LeaderElectionConfig& config);

// Both run on the elector's callback thread, one at a time and in order (started before stopped),
// so a slow callback never delays a renewal. Either may be empty.
struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
};

// The Lease resource of the coordination.k8s.io/v1 API.
kube::ResourceKind LeaseResource();

class CallbackThread;

class LeaderElector {
 public:
  // `client` and `clock` must outlive the elector. A null clock means the system clocks.
  LeaderElector(kube::KubeClient& client, LeaderElectionConfig config, LeaderCallbacks callbacks,
                ElectionClock* clock = nullptr);
  ~LeaderElector();  // Stop(kRelease) if still running
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts campaigning on a thread of its own. After stepping down (a failed renewal, or another
  // holder seen), the elector goes back to campaigning: a replica that lost the lease through a
  // network blip becomes a candidate again.
  void Start();

  enum class StopMode {
    kRelease,    // clean shutdown: clear holderIdentity so another replica takes over at once
    kKeepLease,  // stop without touching the Lease, as a killed process would (for tests)
  };
  // Stops campaigning and renewing; on_stopped_leading runs (if we led) before Stop returns.
  void Stop(StopMode mode = StopMode::kRelease);

  bool IsLeader() const { return leader_.load(); }
  const std::string& identity() const { return config_.identity; }

 private:
  enum class Attempt { kHeld, kHeldByOther, kFailed };

  void Run(std::stop_token stop);
  Attempt TryAcquireOrRenew();
  void BecomeLeader();
  void StepDown(const std::string& why);
  void Release();
  std::chrono::nanoseconds ObservedLeaseDuration() const;

  kube::KubeClient& client_;
  LeaderElectionConfig config_;
  LeaderCallbacks callbacks_;
  std::unique_ptr<ElectionClock> own_clock_;
  ElectionClock* clock_;
  std::unique_ptr<CallbackThread> callback_thread_;

  std::atomic<bool> leader_{false};
  std::mutex stop_mutex_;
  bool stopped_ = false;
  std::jthread thread_;

  // Touched only by the election thread (and by Stop after joining it).
  LeaseRecord observed_record_;
  bool have_observed_ = false;
  std::chrono::steady_clock::time_point observed_time_{};
};

}  // namespace cmesh::leader
