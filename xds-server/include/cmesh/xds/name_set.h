// An immutable, sorted set of resource names, interned process-wide: streams that subscribe to
// the same names (every sidecar of a group asks for the same EDS clusters and route
// configurations) share one set instead of each holding its own copy of every name. This is
// most of what keeps the memory of an idle stream independent of the size of the mesh.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cmesh::xds {

class NameSet {
 public:
  using value_type = std::string;
  using const_iterator = std::vector<std::string>::const_iterator;
  using iterator = const_iterator;

  bool contains(std::string_view name) const;
  const_iterator begin() const { return names_.begin(); }
  const_iterator end() const { return names_.end(); }
  std::size_t size() const { return names_.size(); }
  bool empty() const { return names_.empty(); }

 private:
  friend std::shared_ptr<const NameSet> InternNameSet(std::vector<std::string> names);
  std::vector<std::string> names_;  // sorted, unique
};

using NameSetPtr = std::shared_ptr<const NameSet>;

// The set of `names` (any order, duplicates allowed): the same object for equal contents while
// any holder keeps it alive. Thread-safe.
NameSetPtr InternNameSet(std::vector<std::string> names);

}  // namespace cmesh::xds
