// The benchmark's mesh on the apiserver, and the writes that build and churn it.
//
// The tool plays the parts a bare apiserver lacks: the scheduler (spec.nodeName), the kubelet
// (status Running with an IP and Ready=True, through the status subresource) and, unless told
// otherwise, the EndpointSlice controller (one slice per service, rewritten when its pods change).
// Every pod slot is churned by one thread at a time, so each event's expected effect is exact.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "churn_flags.h"
#include "cmesh/kube/kube_client.h"
#include "endpoint_tracker.h"

namespace cmesh::kube_churn {

struct PodSlot {
  std::string name;
  std::string version;  // "v1" or "v2"
  std::string ip;
};

// What one churn event did: its API writes, and the conditions the push must show.
struct ChurnEvent {
  int slot = -1;  // busy until Release(slot): after the effect arrived, so no two expectations overlap
  bool replace = false;
  int writes = 0;
  int failed_writes = 0;
  std::string error;  // the first failure
  Clock::time_point answered;
  std::vector<EndpointCondition> expect;
};

class MeshState {
 public:
  MeshState(kube::KubeClient* client, const Flags& flags);

  // Namespace, CRDs, then (on `threads` threads) Services, DestinationRules, Pods marked
  // Running and EndpointSlices. Pods already in the namespace (an earlier run) are deleted
  // first, so every IP is known. Returns an error message, empty on success.
  std::string Setup();

  // For the sync check: every pod's IP is in its subset cluster.
  std::vector<EndpointCondition> CurrentConditions() const;

  // One event on a random idle pod slot, its writes paced by `pace` (called before each write).
  // Returns writes == 0 when no idle slot was found. The caller releases event.slot.
  ChurnEvent RunEvent(std::mt19937_64& rng, const std::function<void()>& pace);

  // Lets the churn pick the slot again. A slot stays busy until its last event's effect arrived:
  // two flips of one pod inside one debounce window would cancel out and never show.
  void Release(int slot) { busy_[static_cast<std::size_t>(slot)] = false; }

  std::uint64_t pods_created() const { return next_ip_.load(); }
  std::string CleanupNamespace();

 private:
  int total_slots() const { return flags_.services * flags_.pods_per_service; }
  std::string CreateRunningPod(int service, const std::string& name, const std::string& version,
                               const std::string& ip, const std::function<void()>& pace, int* writes);
  std::string WriteSlice(int service, bool create, const std::function<void()>& pace);
  std::string EnsureCrds();
  std::string DeleteExistingPods();

  kube::KubeClient* client_;
  const Flags flags_;
  std::vector<PodSlot> slots_;                        // service s owns [s*pps, (s+1)*pps)
  std::unique_ptr<std::atomic<bool>[]> busy_;
  std::unique_ptr<std::mutex[]> service_mu_;          // one per service: slice writes in order
  std::atomic<std::uint64_t> next_ip_{0};
  std::atomic<std::uint64_t> next_name_{0};
};

}  // namespace cmesh::kube_churn
