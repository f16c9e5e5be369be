// What the sidecar stream has been told about endpoints, and the churn's expectations of it.
//
// The ADS stream reports every ClusterLoadAssignment it receives (a control plane may send only
// the clusters that changed, so a cluster not in a response keeps its endpoints). The churn
// registers, for each event, the conditions its writes must produce (this IP in that subset
// cluster, that IP gone from it) and the time the API answered its last write; the first update
// after which all of them hold gives the event's write -> push latency.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace cmesh::kube_churn {

using Clock = std::chrono::steady_clock;

struct EndpointCondition {
  std::string cluster;
  std::string ip;
  bool present = true;
};

class EndpointTracker {
 public:
  // The endpoints of `cluster` are now `ips` (received at `at`).
  void Update(const std::string& cluster, std::set<std::string> ips, Clock::time_point at);

  // An event whose last write the API answered at `answered`, worth `writes` API writes.
  // When the conditions already hold (the push beat the API's answer) the latency is 0 and
  // the event counts as `early`.
  // `on_arrival` runs (under the tracker's lock: keep it short) when the conditions hold.
  void Expect(std::vector<EndpointCondition> conditions, Clock::time_point answered, int writes,
              std::function<void()> on_arrival = {});

  bool AllHold(const std::vector<EndpointCondition>& conditions) const;
  // Waits until `conditions` all hold or `timeout` passes; returns whether they hold.
  bool WaitFor(const std::vector<EndpointCondition>& conditions, std::chrono::milliseconds timeout);
  // Waits until no expectation is pending or `timeout` passes; returns the number still pending.
  std::size_t Drain(std::chrono::milliseconds timeout);

  struct Summary {
    std::vector<double> latencies_ms;  // one per arrived event, in arrival order
    std::size_t arrived_events = 0;
    std::size_t arrived_writes = 0;
    std::size_t pending_events = 0;    // never arrived (so far)
    std::size_t pending_writes = 0;
    std::size_t early = 0;
    std::size_t updates = 0;           // ClusterLoadAssignments received
    // Conditions of pending events, for the report (at most a few).
    std::vector<std::string> pending_examples;
  };
  Summary Summarize() const;

 private:
  struct Pending {
    std::vector<EndpointCondition> conditions;
    Clock::time_point answered;
    int writes = 1;
    std::function<void()> on_arrival;
  };
  bool HoldsLocked(const EndpointCondition& condition) const;
  bool AllHoldLocked(const std::vector<EndpointCondition>& conditions) const;
  void ArrivedLocked(const Pending& pending, Clock::time_point at);

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::set<std::string>> clusters_;
  std::multimap<std::string, std::size_t> pending_by_cluster_;  // cluster -> id in pending_
  std::map<std::size_t, Pending> pending_;
  std::size_t next_id_ = 0;
  Summary summary_;
};

// p in [0, 100] of `values` (nearest rank on a sorted copy); 0 when empty.
double Percentile(std::vector<double> values, double p);

}  // namespace cmesh::kube_churn
