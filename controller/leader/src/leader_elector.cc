#include "cmesh/leader/leader_elector.h"

#include <utility>

#include "callback_thread.h"
#include "cmesh/logging/logger.h"

namespace cmesh::leader {
namespace {

using logging::Log;
using logging::LogLevel;

int Seconds(std::chrono::milliseconds duration) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration).count();
  return seconds < 1 ? 1 : static_cast<int>(seconds);
}

}  // namespace

kube::ResourceKind LeaseResource() {
  return kube::ResourceKind{"coordination.k8s.io", "v1", "leases", "Lease", true};
}

std::string ValidateLeaderElectionConfig(const LeaderElectionConfig& config) {
  if (config.lease_namespace.empty() || config.lease_name.empty()) return "the lease needs a namespace and a name";
  if (config.identity.empty()) return "the identity is empty";
  if (config.lease_duration < std::chrono::seconds(1)) return "the lease duration is under 1 s";
  if (config.retry_period <= std::chrono::milliseconds(0)) return "the retry period must be positive";
  if (config.renew_deadline <= config.retry_period) return "the renew deadline must exceed the retry period";
  if (config.lease_duration <= config.renew_deadline) return "the lease duration must exceed the renew deadline";
  return "";
}

LeaderElector::LeaderElector(kube::KubeClient& client, LeaderElectionConfig config, LeaderCallbacks callbacks,
                             ElectionClock* clock)
    : client_(client),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      own_clock_(clock ? nullptr : std::make_unique<SystemElectionClock>()),
      clock_(clock ? clock : own_clock_.get()),
      callback_thread_(std::make_unique<CallbackThread>()) {}

LeaderElector::~LeaderElector() { Stop(StopMode::kRelease); }

void LeaderElector::Start() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (thread_.joinable() || stopped_) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void LeaderElector::Stop(StopMode mode) {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  if (leader_.load()) {
    if (mode == StopMode::kRelease) Release();
    StepDown("stopping");
  }
  callback_thread_->Drain();
}

void LeaderElector::Run(std::stop_token stop) {
  Log(LogLevel::kInfo, "leader election: " + config_.identity + " campaigns for lease " + config_.lease_namespace +
                           "/" + config_.lease_name);
  while (!stop.stop_requested()) {
    if (TryAcquireOrRenew() != Attempt::kHeld) {
      clock_->Sleep(config_.retry_period, stop);
      continue;
    }
    BecomeLeader();
    auto last_renewal = clock_->Now();
    while (true) {
      clock_->Sleep(config_.retry_period, stop);
      if (stop.stop_requested()) return;  // Stop() steps down and releases
      Attempt attempt = TryAcquireOrRenew();
      if (attempt == Attempt::kHeld) {
        last_renewal = clock_->Now();
        continue;
      }
      if (attempt == Attempt::kHeldByOther) {
        StepDown("another replica holds the lease (" + observed_record_.holder_identity + ")");
        break;
      }
      if (clock_->Now() - last_renewal >= config_.renew_deadline) {
        StepDown("could not renew the lease within the renew deadline");
        break;
      }
    }
    clock_->Sleep(config_.retry_period, stop);
  }
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenew() {
  const std::string now_text = FormatMicroTime(clock_->WallNow());
  const int duration_seconds = Seconds(config_.lease_duration);
  auto current = client_.Get(LeaseResource(), config_.lease_namespace, config_.lease_name);
  if (!current.ok()) {
    if (!current.error.NotFound()) {
      Log(LogLevel::kWarn, "leader election: reading lease " + config_.lease_namespace + "/" + config_.lease_name +
                               " failed: " + current.error.message);
      return Attempt::kFailed;
    }
    LeaseRecord record{config_.identity, duration_seconds, now_text, now_text, 0};
    nlohmann::json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", LeaseRecordToSpec(record)},
    };
    auto created = client_.Create(LeaseResource(), config_.lease_namespace, lease);
    if (!created.ok()) {
      // 409 AlreadyExists: another replica created it first; we look again after the retry period.
      if (!created.error.Conflict()) {
        Log(LogLevel::kWarn, "leader election: creating lease failed: " + created.error.message);
      }
      return Attempt::kFailed;
    }
    observed_record_ = record;
    have_observed_ = true;
    observed_time_ = clock_->Now();
    return Attempt::kHeld;
  }

  LeaseRecord old_record = LeaseRecordFromLease(*current.value);
  if (!have_observed_ || old_record != observed_record_) {
    // The record changed (a renewal, a takeover): its lease runs from now, on our clock.
    observed_record_ = old_record;
    have_observed_ = true;
    observed_time_ = clock_->Now();
  }
  const bool held_by_us = old_record.holder_identity == config_.identity;
  if (!old_record.holder_identity.empty() && !held_by_us &&
      clock_->Now() < observed_time_ + ObservedLeaseDuration()) {
    return Attempt::kHeldByOther;
  }

  LeaseRecord desired{config_.identity, duration_seconds, now_text, now_text, old_record.lease_transitions};
  if (held_by_us) {
    if (!old_record.acquire_time.empty()) desired.acquire_time = old_record.acquire_time;
  } else {
    desired.lease_transitions = old_record.lease_transitions + 1;
  }
  // Edit the object we read: metadata.resourceVersion makes the Update conditional, and spec fields
  // we do not manage (strategy, preferredHolder) stay as they are.
  nlohmann::json lease = std::move(*current.value);
  nlohmann::json& spec = lease["spec"];
  if (!spec.is_object()) spec = nlohmann::json::object();
  spec.update(LeaseRecordToSpec(desired));
  auto updated = client_.Update(LeaseResource(), config_.lease_namespace, lease);
  if (!updated.ok()) {
    if (!updated.error.Conflict()) {
      Log(LogLevel::kWarn, "leader election: updating lease failed: " + updated.error.message);
    }
    return Attempt::kFailed;
  }
  if (!held_by_us) {
    Log(LogLevel::kInfo, "leader election: " + config_.identity + " took over lease " + config_.lease_namespace + "/" +
                             config_.lease_name + " from " +
                             (old_record.holder_identity.empty() ? std::string("nobody") : old_record.holder_identity));
  }
  observed_record_ = desired;
  observed_time_ = clock_->Now();
  return Attempt::kHeld;
}

std::chrono::nanoseconds LeaderElector::ObservedLeaseDuration() const {
  if (observed_record_.lease_duration_seconds > 0) return std::chrono::seconds(observed_record_.lease_duration_seconds);
  return config_.lease_duration;
}

void LeaderElector::BecomeLeader() {
  leader_.store(true);
  Log(LogLevel::kInfo, "leader election: " + config_.identity + " is the leader");
  if (callbacks_.on_started_leading) callback_thread_->Post(callbacks_.on_started_leading);
}

void LeaderElector::StepDown(const std::string& why) {
  leader_.store(false);
  Log(LogLevel::kInfo, "leader election: " + config_.identity + " stops leading: " + why);
  if (callbacks_.on_stopped_leading) callback_thread_->Post(callbacks_.on_stopped_leading);
}

void LeaderElector::Release() {
  auto current = client_.Get(LeaseResource(), config_.lease_namespace, config_.lease_name);
  if (!current.ok()) {
    Log(LogLevel::kWarn, "leader election: releasing lease: " + current.error.message);
    return;
  }
  LeaseRecord record = LeaseRecordFromLease(*current.value);
  if (record.holder_identity != config_.identity) return;  // no longer ours: nothing to release
  // Like client-go: no holder, a one-second duration, the transition count kept. Candidates see
  // an empty holder and take the lease at their next attempt, without waiting for it to expire.
  const std::string now_text = FormatMicroTime(clock_->WallNow());
  nlohmann::json lease = std::move(*current.value);
  nlohmann::json& spec = lease["spec"];
  spec.erase("holderIdentity");
  spec["leaseDurationSeconds"] = 1;
  spec["acquireTime"] = now_text;
  spec["renewTime"] = now_text;
  auto updated = client_.Update(LeaseResource(), config_.lease_namespace, lease);
  if (!updated.ok()) {
    Log(LogLevel::kWarn, "leader election: releasing lease failed: " + updated.error.message);
    return;
  }
  Log(LogLevel::kInfo, "leader election: " + config_.identity + " released the lease");
}

}  // namespace cmesh::leader
