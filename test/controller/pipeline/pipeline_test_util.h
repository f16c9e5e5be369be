// Shared test helpers: a hand-driven Scheduler and a small mesh config.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "cmesh/compiler/proxy_node.h"
#include "cmesh/model/config_set.h"
#include "cmesh/pipeline/debouncer.h"

namespace cmesh::pipeline::testing {

// Time moves only when the test says so; due tasks run inside Advance, in time order.
class ManualScheduler final : public Scheduler {
 public:
  SteadyTime Now() const override;
  void ScheduleAt(SteadyTime when, std::function<void()> task) override;
  void Advance(std::chrono::milliseconds by);
  std::size_t pending() const;

 private:
  mutable std::mutex mutex_;
  SteadyTime now_{std::chrono::seconds(1000)};
  std::vector<std::pair<SteadyTime, std::function<void()>>> tasks_;
};

// reviews (v1, v2 pods) and ratings services in "default", each port http 9080, plus the given
// extra YAML documents. Parsed with cross-object checks; parse errors fail the test.
model::ConfigSet MeshConfig(const std::string& extra_yaml = "");

// A reviews VirtualService sending `v1_weight`% to subset v1 and the rest to v2, with the
// DestinationRule defining both subsets.
std::string ReviewsSplitYaml(int v1_weight);

compiler::ProxyNode Proxy(const std::string& node_id, const model::Labels& labels);

}  // namespace cmesh::pipeline::testing
