#include "cmesh/xds/name_set.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace cmesh::xds {

bool NameSet::contains(std::string_view name) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), name,
                             [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  return it != names_.end() && *it == name;
}

NameSetPtr InternNameSet(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  static const NameSetPtr kEmpty = std::make_shared<const NameSet>();
  if (names.empty()) return kEmpty;

  std::size_t hash = names.size();
  for (const std::string& name : names) hash = hash * 1099511628211ull ^ std::hash<std::string>()(name);

  // Entries are weak: a set lives as long as some stream holds it. Expired entries of a hash
  // bucket are dropped when that bucket is visited, and the whole table is swept when it grows.
  static std::mutex mutex;
  static std::unordered_multimap<std::size_t, std::weak_ptr<const NameSet>> table;
  static std::size_t sweep_at = 1024;
  std::lock_guard lock(mutex);
  auto [first, last] = table.equal_range(hash);
  for (auto it = first; it != last;) {
    if (auto set = it->second.lock()) {
      if (set->names_ == names) return set;
      ++it;
    } else {
      it = table.erase(it);
    }
  }
  auto set = std::make_shared<NameSet>();
  set->names_ = std::move(names);
  table.emplace(hash, set);
  if (table.size() >= sweep_at) {
    std::erase_if(table, [](const auto& entry) { return entry.second.expired(); });
    sweep_at = std::max<std::size_t>(1024, table.size() * 2);
  }
  return set;
}

}  // namespace cmesh::xds
