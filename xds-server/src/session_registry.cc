#include "cmesh/xds/session_registry.h"

namespace cmesh::xds {

std::uint64_t SessionRegistry::Add(std::weak_ptr<const SessionInfo> session) {
  std::lock_guard lock(mutex_);
  std::uint64_t id = ++next_id_;
  sessions_.emplace(id, std::move(session));
  return id;
}

void SessionRegistry::Remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::vector<SessionSummary> SessionRegistry::List() const {
  std::vector<std::pair<std::uint64_t, std::shared_ptr<const SessionInfo>>> live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, weak] : sessions_) {
      if (auto session = weak.lock()) live.emplace_back(id, std::move(session));
    }
  }
  // Each session's own lock is taken outside ours, so a slow session does not block Add/Remove.
  std::vector<SessionSummary> out;
  out.reserve(live.size());
  for (const auto& [id, session] : live) out.push_back({id, session->GroupKey(), session->Status()});
  return out;
}

}  // namespace cmesh::xds
