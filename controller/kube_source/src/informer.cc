#include "cmesh/kube_source/informer.h"

#include <random>
#include <utility>

namespace cmesh::kube_source {

Informer::Informer(kube::KubeClient& client, kube::ResourceKind kind, Transform transform, Handler handler,
                   InformerOptions options)
    : client_(client),
      kind_(std::move(kind)),
      transform_(std::move(transform)),
      handler_(std::move(handler)),
      options_(std::move(options)),
      backoff_(Policy(options_), std::random_device{}()) {}

Informer::~Informer() { Stop(); }

kube::BackoffPolicy Informer::Policy(const InformerOptions& options) {
  kube::BackoffPolicy policy;
  policy.initial = options.backoff_base;
  policy.max = options.backoff_max;
  return policy;
}

void Informer::AddIndex(const std::string& name, IndexFunction function) {
  index_functions_[name] = std::move(function);
}

void Informer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  {
    std::lock_guard lock(mutex_);
    synced_cv_.notify_all();  // WaitForSync gives up
  }
  cancel_.Cancel();
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_.load() || stopping_.load(); }) && synced_;
}

std::string Informer::KeyOf(const nlohmann::json& object) {
  const nlohmann::json& meta = object.contains("metadata") ? object["metadata"] : nlohmann::json::object();
  std::string name = meta.value("name", "");
  std::string ns = meta.value("namespace", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::optional<nlohmann::json> Informer::Get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Informer::Keys() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  keys.reserve(cache_.size());
  for (const auto& [key, object] : cache_) keys.push_back(key);
  return keys;
}

std::vector<nlohmann::json> Informer::ByIndex(const std::string& index, const std::string& value) const {
  std::lock_guard lock(mutex_);
  std::vector<nlohmann::json> out;
  auto by_value = indexes_.find(index);
  if (by_value == indexes_.end()) return out;
  auto keys = by_value->second.find(value);
  if (keys == by_value->second.end()) return out;
  for (const std::string& key : keys->second) out.push_back(cache_.at(key));
  return out;
}

std::size_t Informer::size() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

std::string Informer::resource_version() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

InformerStats Informer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool Informer::ApplyLocked(const std::string& key, const std::optional<nlohmann::json>& reduced) {
  auto it = cache_.find(key);
  if (!reduced) {
    if (it == cache_.end()) return false;
  } else if (it != cache_.end() && it->second == *reduced) {
    return false;
  }
  // Unindex the old form, then index the new one.
  if (it != cache_.end()) {
    for (const auto& [name, function] : index_functions_) {
      auto& by_value = indexes_[name];
      for (const std::string& value : function(it->second)) {
        auto keys = by_value.find(value);
        if (keys == by_value.end()) continue;
        keys->second.erase(key);
        if (keys->second.empty()) by_value.erase(keys);
      }
    }
  }
  if (!reduced) {
    cache_.erase(it);
    return true;
  }
  for (const auto& [name, function] : index_functions_) {
    for (const std::string& value : function(*reduced)) indexes_[name][value].insert(key);
  }
  cache_[key] = *reduced;
  return true;
}

void Informer::Report(const std::vector<ObjectChange>& changes) {
  {
    std::lock_guard lock(mutex_);
    stats_.changes += changes.size();
  }
  if (handler_) handler_(changes);
}

bool Informer::ListAndDiff(bool after_gone) {
  kube::ListOptions list_options;
  list_options.page_size = options_.page_size;
  kube::KubeResult<kube::ObjectList> list = client_.List(kind_, list_options);
  if (!list.ok()) {
    Fail("list", list.error);
    return false;
  }
  std::vector<ObjectChange> changes;
  {
    std::lock_guard lock(mutex_);
    ++stats_.lists;
    if (after_gone) ++stats_.relists_after_gone;
    std::set<std::string> seen;
    for (const nlohmann::json& item : list.value->items) {
      nlohmann::json reduced = transform_(item);
      std::string key = KeyOf(reduced);
      seen.insert(key);
      if (ApplyLocked(key, reduced)) changes.push_back({key, std::move(reduced)});
    }
    std::vector<std::string> gone;
    for (const auto& [key, object] : cache_) {
      if (!seen.count(key)) gone.push_back(key);
    }
    for (const std::string& key : gone) {
      ApplyLocked(key, std::nullopt);
      changes.push_back({key, std::nullopt});
    }
    resource_version_ = list.value->resource_version;
    ResetBackoffLocked();
  }
  // The first list is reported even when empty: it is what marks the informer synced.
  if (!synced_ || !changes.empty()) Report(changes);
  if (!synced_) {
    std::lock_guard lock(mutex_);
    synced_ = true;
    synced_cv_.notify_all();
  }
  return true;
}

void Informer::Fail(const std::string& what, const kube::KubeError& error) {
  {
    std::lock_guard lock(mutex_);
    ++stats_.errors;
  }
  if (options_.on_error && !stopping_) {
    options_.on_error(what + " " + kind_.ApiVersion() + " " + kind_.plural + ": " +
                      (error.message.empty() ? "HTTP " + std::to_string(error.http_status) : error.message));
  }
}

void Informer::ResetBackoffLocked() { backoff_ = kube::Backoff(Policy(options_), std::random_device{}()); }

bool Informer::Backoff() {
  std::chrono::milliseconds wait;
  {
    std::lock_guard lock(mutex_);
    wait = backoff_.Next();
  }
  std::unique_lock lock(stop_mutex_);
  return !stop_cv_.wait_for(lock, wait, [this] { return stopping_.load(); });
}

void Informer::Run() {
  bool need_list = true;
  bool after_gone = false;
  while (!stopping_) {
    if (need_list) {
      if (!ListAndDiff(after_gone)) {
        if (!Backoff()) return;
        continue;
      }
      need_list = false;
      after_gone = false;
    }
    kube::WatchOptions watch_options;
    watch_options.resource_version = resource_version();
    watch_options.timeout = options_.watch_timeout;
    watch_options.allow_bookmarks = true;
    {
      std::lock_guard lock(mutex_);
      ++stats_.watches;
    }
    kube::KubeError error = client_.Watch(
        kind_, watch_options,
        [this](const kube::WatchEvent& event) {
          if (stopping_) return false;
          std::optional<ObjectChange> change;
          {
            std::lock_guard lock(mutex_);
            ++stats_.events;
            if (backoff_.delays_given() > 0) ResetBackoffLocked();
            const auto& meta = event.object.contains("metadata") ? event.object["metadata"] : nlohmann::json();
            if (meta.is_object()) {
              std::string version = meta.value("resourceVersion", "");
              if (!version.empty()) resource_version_ = version;
            }
            if (event.type == kube::WatchEventType::kBookmark) return true;
            if (event.type == kube::WatchEventType::kDeleted) {
              std::string key = KeyOf(event.object);
              if (ApplyLocked(key, std::nullopt)) change = ObjectChange{key, std::nullopt};
            } else {
              nlohmann::json reduced = transform_(event.object);
              std::string key = KeyOf(reduced);
              if (ApplyLocked(key, reduced)) change = ObjectChange{key, std::move(reduced)};
            }
          }
          if (change) Report({*change});
          return !stopping_;
        },
        cancel_);
    if (stopping_) return;
    if (error.ok()) continue;  // the server ended the watch: resume from the last version
    if (error.Gone()) {
      Fail("watch (resource version expired; listing again)", error);
      need_list = true;
      after_gone = true;
      continue;
    }
    Fail("watch", error);
    if (!Backoff()) return;
  }
}

}  // namespace cmesh::kube_source
