#include "milestones.h"

namespace cmesh::xds_load {

void Milestones::Start(std::size_t streams) {
  std::lock_guard lock(mu_);
  times_.assign(streams, std::nullopt);
  reached_ = 0;
}

void Milestones::Reach(std::size_t index) {
  const auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    if (index >= times_.size() || times_[index]) return;
    times_[index] = now;
    ++reached_;
  }
  cv_.notify_all();
}

std::size_t Milestones::reached() const {
  std::lock_guard lock(mu_);
  return reached_;
}

bool Milestones::Has(std::size_t index) const {
  std::lock_guard lock(mu_);
  return index < times_.size() && times_[index].has_value();
}

std::vector<double> Milestones::MillisSince(Clock::time_point origin) const {
  std::lock_guard lock(mu_);
  std::vector<double> out;
  out.reserve(reached_);
  for (const auto& t : times_) {
    if (t) out.push_back(std::chrono::duration<double, std::milli>(*t - origin).count());
  }
  return out;
}

}  // namespace cmesh::xds_load
