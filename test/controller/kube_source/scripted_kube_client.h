// A scripted KubeClient for unit tests of the informers: lists answer from `objects`, watches
// deliver queued events (or end, or fail with a queued error) and record where they started.
// The real-apiserver tests use the REST client; this one only makes edge cases (a watch ending, 410 Gone) reproducible, which an in-memory store cannot.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cmesh/kube/kube_client.h"

namespace cmesh::kube_source::testing {

class ScriptedKubeClient : public kube::KubeClient {
 public:
  // Something a watch of `plural` does next: deliver an event, end normally, or fail.
  struct End {};
  using Step = std::variant<kube::WatchEvent, End, kube::KubeError>;

  void SetList(const std::string& plural, std::vector<nlohmann::json> items, std::string version) {
    std::lock_guard lock(mutex_);
    lists_[plural] = {std::move(items), std::move(version)};
  }
  void Push(const std::string& plural, Step step) {
    std::lock_guard lock(mutex_);
    steps_[plural].push_back(std::move(step));
    cv_.notify_all();
  }
  // The resourceVersion every watch of `plural` started from, in order.
  std::vector<std::string> WatchStarts(const std::string& plural) {
    std::lock_guard lock(mutex_);
    return watch_starts_[plural];
  }
  int Lists(const std::string& plural) {
    std::lock_guard lock(mutex_);
    return list_calls_[plural];
  }
  // Waits until the watch of `plural` consumed every queued step.
  bool Drained(const std::string& plural) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return steps_[plural].empty() && waiting_[plural]; });
  }

  kube::KubeResult<kube::ObjectList> List(const kube::ResourceKind& kind, const kube::ListOptions&) override {
    std::lock_guard lock(mutex_);
    ++list_calls_[kind.plural];
    kube::KubeResult<kube::ObjectList> result;
    auto it = lists_.find(kind.plural);
    result.value = it == lists_.end() ? kube::ObjectList{{}, "1"} : it->second;
    return result;
  }

  kube::KubeError Watch(const kube::ResourceKind& kind, const kube::WatchOptions& options,
                        const std::function<bool(const kube::WatchEvent&)>& on_event,
                        kube::Cancellation& cancel) override {
    cancel.OnCancel([this] {
      std::lock_guard lock(mutex_);
      cv_.notify_all();
    });
    std::unique_lock lock(mutex_);
    watch_starts_[kind.plural].push_back(options.resource_version);
    auto& steps = steps_[kind.plural];
    while (true) {
      waiting_[kind.plural] = steps.empty();
      cv_.notify_all();
      cv_.wait(lock, [&] { return cancel.cancelled() || !steps.empty(); });
      if (cancel.cancelled()) return {};
      waiting_[kind.plural] = false;
      Step step = std::move(steps.front());
      steps.pop_front();
      if (std::holds_alternative<End>(step)) return {};
      if (auto* error = std::get_if<kube::KubeError>(&step)) return *error;
      kube::WatchEvent event = std::get<kube::WatchEvent>(step);
      lock.unlock();
      bool more = on_event(event);
      lock.lock();
      if (!more) return {};
    }
  }

  kube::KubeResult<nlohmann::json> Get(const kube::ResourceKind&, const std::string&, const std::string&) override {
    return Unsupported();
  }
  kube::KubeResult<nlohmann::json> Create(const kube::ResourceKind&, const std::string&, const nlohmann::json&) override {
    return Unsupported();
  }
  kube::KubeResult<nlohmann::json> Update(const kube::ResourceKind&, const std::string&, const nlohmann::json&) override {
    return Unsupported();
  }
  kube::KubeResult<nlohmann::json> Patch(const kube::ResourceKind&, const std::string&, const std::string&,
                                         kube::PatchType, const nlohmann::json&) override {
    return Unsupported();
  }
  kube::KubeResult<nlohmann::json> UpdateStatus(const kube::ResourceKind&, const std::string&,
                                                const nlohmann::json&) override {
    return Unsupported();
  }
  kube::KubeError Delete(const kube::ResourceKind&, const std::string&, const std::string&) override {
    return Unsupported().error;
  }

 private:
  static kube::KubeResult<nlohmann::json> Unsupported() {
    kube::KubeResult<nlohmann::json> result;
    result.error.message = "not supported by the scripted client";
    return result;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, kube::ObjectList> lists_;
  std::map<std::string, std::deque<Step>> steps_;
  std::map<std::string, std::vector<std::string>> watch_starts_;
  std::map<std::string, int> list_calls_;
  std::map<std::string, bool> waiting_;
};

inline kube::WatchEvent Event(kube::WatchEventType type, nlohmann::json object) { return {type, std::move(object)}; }

inline kube::KubeError GoneError() { return {410, "Expired", "too old resource version"}; }

}  // namespace cmesh::kube_source::testing
