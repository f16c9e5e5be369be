// Writes the validation result of a VirtualService or DestinationRule into its .status, only when
// it differs from what is there, through the status subresource with the object's resourceVersion.
//
// It never fights another writer: a 409 leads to a re-read and a recomputation, a bounded number
// of times per call; and when another writer keeps reverting what we wrote for the same generation
// and the same result, it stops rewriting that object (with one log line) until the object or its
// result changes. Only the leader should call Reconcile; the caller decides that.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/kube/kube_client.h"
#include "cmesh/model/diagnostic.h"

namespace cmesh::kube_status {

struct ReconcileResult {
  bool wrote = false;              // a status update was accepted
  bool skipped_unchanged = false;  // the status was already as desired: nothing written
  bool gave_up = false;            // another writer keeps changing it: we stopped trying
  std::string error;               // set when none of the above (a failed call, a bad object)
  int attempts = 0;                // UpdateStatus calls made
  bool ok() const { return error.empty(); }
};

struct StatusWriterOptions {
  // UpdateStatus attempts per Reconcile (each 409 costs one, then a re-Get).
  int max_attempts = 4;
  // How many times we rewrite the same desired status for the same generation before concluding
  // that someone else keeps undoing it.
  int max_rewrites = 3;
  // The time stamped on a condition whose status changes; the system clock when empty.
  std::function<std::chrono::system_clock::time_point()> now;
};

// The REST resource of a VirtualService or DestinationRule object (its apiVersion and kind).
// Fails (returns false) for other kinds.
bool ResourceForObject(const nlohmann::json& object, kube::ResourceKind* resource);

class StatusWriter {
 public:
  explicit StatusWriter(kube::KubeClient& client, StatusWriterOptions options = {});

  // `object`: the object as last seen (apiVersion, kind, metadata with namespace, name,
  // generation and resourceVersion, and its current status). `diagnostics`: the errors and
  // warnings for it (empty: valid). Thread-safe.
  ReconcileResult Reconcile(const nlohmann::json& object, const std::vector<model::Diagnostic>& diagnostics);

  // Forgets what we remember about an object (call when it is deleted).
  void Forget(const std::string& kind, const std::string& ns, const std::string& name);

 private:
  struct Rewrites {
    std::int64_t generation = 0;
    nlohmann::json desired;
    int count = 0;
    bool logged = false;
  };

  std::string Now() const;

  kube::KubeClient& client_;
  StatusWriterOptions options_;
  std::mutex mutex_;
  std::map<std::string, Rewrites> rewrites_;  // by "kind/ns/name"
};

}  // namespace cmesh::kube_status
