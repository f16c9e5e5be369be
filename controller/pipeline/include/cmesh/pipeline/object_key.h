// Identifies one config object across versions: what a change event names.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "cmesh/model/config_set.h"

namespace cmesh::pipeline {

struct ObjectKey {
  std::string kind;  // "VirtualService", "DestinationRule", "Service", ...
  std::string ns;
  std::string name;
  friend auto operator<=>(const ObjectKey&, const ObjectKey&) = default;
  // "VirtualService/default/reviews"
  std::string ToString() const;
};

using ObjectKeySet = std::set<ObjectKey>;

// Every object of `config` by key, with its parser content hash (0 when built in code). When a
// key occurs twice (two files define one object), the hashes are combined so that a change of
// either copy is still seen.
std::map<ObjectKey, std::uint64_t> ObjectHashes(const model::ConfigSet& config);

// Keys added, removed, or whose content hash differs (or is 0: unknown, so treated as changed).
ObjectKeySet DiffObjects(const model::ConfigSet& before, const model::ConfigSet& after);

}  // namespace cmesh::pipeline
