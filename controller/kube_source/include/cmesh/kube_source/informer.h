// A list-and-watch cache of one Kubernetes resource, like client-go's informer.
//
// It lists the resource, then watches from the list's resourceVersion. A watch that the server
// ends (timeoutSeconds) or that fails resumes from the last resourceVersion seen (events and
// bookmarks both advance it), after a jittered backoff when it failed. A 410 Gone (etcd compacted
// past that version) makes it list again and report the difference against its cache: objects
// that appeared, changed or vanished meanwhile are reported once each, and unchanged ones not at
// all, so nothing is missed and nothing is duplicated.
//
// The cache keeps each object as `transform` reduces it (only the fields the mesh reads), which
// keeps memory in proportion to what is used and makes unrelated churn invisible: an update whose
// reduced form equals the cached one is not reported. Secondary indexes (AddIndex) map values
// computed from the reduced object to keys.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/kube/backoff.h"
#include "cmesh/kube/kube_client.h"

namespace cmesh::kube_source {

// One reported change: the object's "namespace/name" (or "name" when cluster-scoped) and its
// reduced form, or nullopt when it was deleted.
struct ObjectChange {
  std::string key;
  std::optional<nlohmann::json> object;
};

struct InformerOptions {
  std::chrono::seconds watch_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  int page_size = 500;
  // Called with each failure (the informer retries by itself), for logs.
  std::function<void(const std::string&)> on_error;
};

struct InformerStats {
  std::uint64_t lists = 0;
  std::uint64_t relists_after_gone = 0;
  std::uint64_t watches = 0;
  std::uint64_t events = 0;    // watch events received (bookmarks included)
  std::uint64_t changes = 0;   // changes reported
  std::uint64_t errors = 0;
};

class Informer {
 public:
  // Reduces an object to what the cache keeps; it also sets apiVersion and kind, which list
  // items lack.
  using Transform = std::function<nlohmann::json(const nlohmann::json&)>;
  // Receives changes in order, on the informer's thread. The first call (after the first list)
  // carries every object, possibly none: the informer is then synced.
  using Handler = std::function<void(const std::vector<ObjectChange>&)>;
  // Values under which an object is indexed.
  using IndexFunction = std::function<std::vector<std::string>(const nlohmann::json&)>;

  Informer(kube::KubeClient& client, kube::ResourceKind kind, Transform transform, Handler handler,
           InformerOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before Start only.
  void AddIndex(const std::string& name, IndexFunction function);
  void Start();
  // Ends the watch in flight and joins the thread. Idempotent.
  void Stop();

  // True once the first list has been handed to the handler.
  bool synced() const { return synced_.load(); }
  bool WaitForSync(std::chrono::milliseconds timeout);

  std::optional<nlohmann::json> Get(const std::string& key) const;
  std::vector<std::string> Keys() const;
  std::vector<nlohmann::json> ByIndex(const std::string& index, const std::string& value) const;
  std::size_t size() const;
  std::string resource_version() const;
  InformerStats stats() const;
  const kube::ResourceKind& kind() const { return kind_; }

  // The cache key of an object: "namespace/name", or "name" for cluster-scoped ones.
  static std::string KeyOf(const nlohmann::json& object);

 private:
  void Run();
  // Lists and reports the difference against the cache. False on failure.
  bool ListAndDiff(bool after_gone);
  // Applies one upsert or delete to the cache and its indexes; true when it changed the cache.
  bool ApplyLocked(const std::string& key, const std::optional<nlohmann::json>& reduced);
  void Report(const std::vector<ObjectChange>& changes);
  // Sleeps the next backoff delay (interrupted by Stop); returns false when stopping.
  bool Backoff();
  void Fail(const std::string& what, const kube::KubeError& error);
  static kube::BackoffPolicy Policy(const InformerOptions& options);
  void ResetBackoffLocked();  // after a success, under mutex_

  kube::KubeClient& client_;
  const kube::ResourceKind kind_;
  Transform transform_;
  Handler handler_;
  InformerOptions options_;
  std::map<std::string, IndexFunction> index_functions_;

  mutable std::mutex mutex_;  // guards the cache, indexes, resource_version_ and stats_
  std::map<std::string, nlohmann::json> cache_;
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;  // index → value → keys
  std::string resource_version_;
  InformerStats stats_;
  kube::Backoff backoff_;  // restarted after each success, so only consecutive failures grow it

  std::atomic<bool> synced_{false};
  std::condition_variable synced_cv_;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  kube::Cancellation cancel_;  // Stop cancels it: it ends the watch in flight
  std::thread thread_;
};

}  // namespace cmesh::kube_source
