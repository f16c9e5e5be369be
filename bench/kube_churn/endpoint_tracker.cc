#include "endpoint_tracker.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace cmesh::kube_churn {

void EndpointTracker::Update(const std::string& cluster, std::set<std::string> ips, Clock::time_point at) {
  {
    std::lock_guard lock(mu_);
    ++summary_.updates;
    clusters_[cluster] = std::move(ips);
    // Only events that mention this cluster can have changed state.
    std::set<std::size_t> candidates;
    auto [begin, end] = pending_by_cluster_.equal_range(cluster);
    for (auto it = begin; it != end; ++it) candidates.insert(it->second);
    for (std::size_t id : candidates) {
      auto found = pending_.find(id);
      if (found == pending_.end() || !AllHoldLocked(found->second.conditions)) continue;
      ArrivedLocked(found->second, at);
      for (const auto& condition : found->second.conditions) {
        auto [b, e] = pending_by_cluster_.equal_range(condition.cluster);
        for (auto it = b; it != e;) it = it->second == id ? pending_by_cluster_.erase(it) : std::next(it);
      }
      pending_.erase(found);
    }
  }
  changed_.notify_all();
}

void EndpointTracker::Expect(std::vector<EndpointCondition> conditions, Clock::time_point answered, int writes,
                             std::function<void()> on_arrival) {
  std::lock_guard lock(mu_);
  Pending pending{std::move(conditions), answered, writes, std::move(on_arrival)};
  if (AllHoldLocked(pending.conditions)) {
    ++summary_.early;
    ArrivedLocked(pending, answered);
    return;
  }
  const std::size_t id = next_id_++;
  for (const auto& condition : pending.conditions) pending_by_cluster_.emplace(condition.cluster, id);
  pending_.emplace(id, std::move(pending));
}

bool EndpointTracker::HoldsLocked(const EndpointCondition& condition) const {
  auto it = clusters_.find(condition.cluster);
  const bool present = it != clusters_.end() && it->second.count(condition.ip) > 0;
  return present == condition.present;
}

bool EndpointTracker::AllHoldLocked(const std::vector<EndpointCondition>& conditions) const {
  return std::all_of(conditions.begin(), conditions.end(), [&](const auto& c) { return HoldsLocked(c); });
}

void EndpointTracker::ArrivedLocked(const Pending& pending, Clock::time_point at) {
  const auto latency = std::chrono::duration<double, std::milli>(at - pending.answered).count();
  summary_.latencies_ms.push_back(std::max(0.0, latency));
  ++summary_.arrived_events;
  summary_.arrived_writes += static_cast<std::size_t>(pending.writes);
  if (pending.on_arrival) pending.on_arrival();
}

bool EndpointTracker::AllHold(const std::vector<EndpointCondition>& conditions) const {
  std::lock_guard lock(mu_);
  return AllHoldLocked(conditions);
}

bool EndpointTracker::WaitFor(const std::vector<EndpointCondition>& conditions, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return AllHoldLocked(conditions); });
}

std::size_t EndpointTracker::Drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return pending_.empty(); });
  return pending_.size();
}

EndpointTracker::Summary EndpointTracker::Summarize() const {
  std::lock_guard lock(mu_);
  Summary out = summary_;
  out.pending_events = pending_.size();
  out.pending_writes = 0;
  for (const auto& [id, pending] : pending_) {
    out.pending_writes += static_cast<std::size_t>(pending.writes);
    if (out.pending_examples.size() >= 5) continue;
    std::string text;
    for (const auto& c : pending.conditions) {
      if (!text.empty()) text += " and ";
      text += c.ip + (c.present ? " in " : " not in ") + c.cluster;
    }
    out.pending_examples.push_back(std::move(text));
  }
  return out;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

}  // namespace cmesh::kube_churn
