#include "status_reporter.h"

#include "cmesh/logging/logger.h"

namespace cmesh::pilot {
namespace {

std::string KeyOf(const nlohmann::json& object) {
  const auto& meta = object.at("metadata");
  return object.value("kind", "") + "/" + meta.value("namespace", "") + "/" + meta.value("name", "");
}

}  // namespace

StatusReporter::StatusReporter(kube_status::StatusWriter& writer) : writer_(writer) {
  thread_ = std::thread([this] { Run(); });
}

StatusReporter::~StatusReporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StatusReporter::Update(const std::vector<kube_source::ValidatedObject>& objects) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& object : objects) {
      std::string key = KeyOf(object.object);
      if (object.deleted) {
        latest_.erase(key);
        pending_.erase(key);
        const auto& meta = object.object.at("metadata");
        writer_.Forget(object.object.value("kind", ""), meta.value("namespace", ""), meta.value("name", ""));
        continue;
      }
      latest_[key] = object;
      pending_.insert(std::move(key));
    }
  }
  wake_.notify_all();
}

void StatusReporter::SetLeader(bool leader) {
  {
    std::lock_guard lock(mutex_);
    leader_ = leader;
    if (leader) {
      for (const auto& [key, object] : latest_) pending_.insert(key);
    }
  }
  wake_.notify_all();
}

StatusReporter::Stats StatusReporter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void StatusReporter::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || (leader_ && !pending_.empty()); });
    if (stopping_) return;
    std::string key = *pending_.begin();
    pending_.erase(pending_.begin());
    kube_source::ValidatedObject object = latest_.at(key);
    lock.unlock();
    kube_status::ReconcileResult result = writer_.Reconcile(object.object, object.diagnostics);
    lock.lock();
    if (result.wrote) {
      ++stats_.written;
      logging::Log(logging::LogLevel::kInfo, "status: wrote " + key);
    }
    else if (result.skipped_unchanged) ++stats_.unchanged;
    if (!result.ok()) {
      ++stats_.failed;
      // Left for the object's next change (or the next leadership); deletions arrive as updates.
      logging::Log(logging::LogLevel::kWarn, "status of " + key + ": " + result.error);
    }
  }
}

}  // namespace cmesh::pilot
