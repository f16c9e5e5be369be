// The Kubernetes API as the controller uses it: list, watch and write typed objects as JSON.
//
// The informers and the leader elector are written against this interface only; the real
// implementation (RestKubeClient, cpprestsdk) lives behind it, and unit tests may fake it. The
// tests of this issue run against a real kube-apiserver, never only against a fake.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cmesh::kube {

// One REST resource: /api/v1/namespaces/NS/pods or /apis/GROUP/VERSION/namespaces/NS/PLURAL.
struct ResourceKind {
  std::string group;    // "" for the core group
  std::string version;  // "v1", "v1alpha3", ...
  std::string plural;   // "pods", "virtualservices", ...
  std::string kind;     // "Pod", "VirtualService", ... (for messages and for objects we create)
  bool namespaced = true;
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// The outcome of a call. http_status is 0 when no HTTP answer arrived (connection refused, TLS
// failure, timeout); reason is the Status object's reason ("NotFound", "Conflict", "Expired",
// "Gone", ...) when the server sent one. message is for people: it names the verb, the resource
// and, for 401/403, the RBAC rule that is missing.
struct KubeError {
  int http_status = 0;
  std::string reason;
  std::string message;
  // No error: no status beyond 2xx and no message (every failure carries a message).
  bool ok() const { return message.empty() && (http_status == 0 || (http_status >= 200 && http_status < 300)); }
  bool NotFound() const { return http_status == 404; }
  bool Conflict() const { return http_status == 409; }
  bool Gone() const { return http_status == 410 || reason == "Expired" || reason == "Gone"; }
  bool Forbidden() const { return http_status == 401 || http_status == 403; }
};

template <typename T>
struct KubeResult {
  std::optional<T> value;  // set on success
  KubeError error;         // meaningful when !ok()
  bool ok() const { return value.has_value(); }
};

struct ListOptions {
  std::string ns;              // empty: every namespace (or a cluster-scoped kind)
  std::string label_selector;  // empty: no selector
  std::string field_selector;
  int page_size = 500;         // `limit`; the client follows `continue` until the list is complete
};

struct ObjectList {
  std::vector<nlohmann::json> items;  // every page, in the server's order
  std::string resource_version;       // the list's metadata.resourceVersion, to start a watch from
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object;  // the object (for a bookmark: only metadata.resourceVersion matters)
};

struct WatchOptions {
  std::string ns;
  std::string label_selector;
  std::string resource_version;                  // resume point; empty: from now
  std::chrono::seconds timeout{std::chrono::minutes(5)};  // timeoutSeconds: the server ends the watch
  bool allow_bookmarks = true;
};

// Lets another thread end a blocking Watch (and any call in flight) promptly.
class Cancellation {
 public:
  void Cancel() {
    std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cancelled_.exchange(true)) return;
      callbacks.swap(callbacks_);
    }
    for (auto& callback : callbacks) callback.second();
  }
  bool cancelled() const { return cancelled_.load(); }
  // Runs `callback` at cancellation (now, if already cancelled). For the client implementation.
  // The handle lets Forget() drop the callback when the call it guarded is over: one Cancellation
  // often outlives many watches (an informer's), and would otherwise keep all their callbacks.
  std::uint64_t OnCancel(std::function<void()> callback) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!cancelled_) {
        callbacks_.emplace_back(++last_handle_, std::move(callback));
        return last_handle_;
      }
    }
    callback();
    return 0;
  }
  void Forget(std::uint64_t handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::erase_if(callbacks_, [handle](const auto& entry) { return entry.first == handle; });
  }

 private:
  std::mutex mutex_;
  std::atomic<bool> cancelled_{false};
  std::uint64_t last_handle_ = 0;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks_;
};

enum class PatchType { kMerge, kJson, kStrategicMerge };

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  // Lists every object, following `continue` pages. A 410 on a later page (the snapshot was
  // compacted) restarts the list from the first page once; after that it is an error.
  virtual KubeResult<ObjectList> List(const ResourceKind& kind, const ListOptions& options) = 0;

  // Watches from options.resource_version, calling on_event for every event as it arrives (the
  // body is a stream of JSON lines), until the server ends the watch (then ok), `on_event`
  // returns false (ok), `cancel` is cancelled (ok), or an error: an ERROR event carrying a Status
  // (410 Expired/Gone when the resource version is too old) or a transport failure. Blocking.
  virtual KubeError Watch(const ResourceKind& kind, const WatchOptions& options,
                          const std::function<bool(const WatchEvent&)>& on_event, Cancellation& cancel) = 0;

  virtual KubeResult<nlohmann::json> Get(const ResourceKind& kind, const std::string& ns, const std::string& name) = 0;
  virtual KubeResult<nlohmann::json> Create(const ResourceKind& kind, const std::string& ns,
                                            const nlohmann::json& object) = 0;
  // PUT of the whole object; metadata.resourceVersion makes it conditional (409 on a conflict).
  virtual KubeResult<nlohmann::json> Update(const ResourceKind& kind, const std::string& ns,
                                            const nlohmann::json& object) = 0;
  virtual KubeResult<nlohmann::json> Patch(const ResourceKind& kind, const std::string& ns, const std::string& name,
                                           PatchType type, const nlohmann::json& patch) = 0;
  // PUT to the status subresource.
  virtual KubeResult<nlohmann::json> UpdateStatus(const ResourceKind& kind, const std::string& ns,
                                                  const nlohmann::json& object) = 0;
  virtual KubeError Delete(const ResourceKind& kind, const std::string& ns, const std::string& name) = 0;
};

}  // namespace cmesh::kube
