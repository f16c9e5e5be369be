#include "pipeline_test_util.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "cmesh/model/parser.h"

namespace cmesh::pipeline::testing {

SteadyTime ManualScheduler::Now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void ManualScheduler::ScheduleAt(SteadyTime when, std::function<void()> task) {
  std::lock_guard lock(mutex_);
  tasks_.emplace_back(when, std::move(task));
}

void ManualScheduler::Advance(std::chrono::milliseconds by) {
  SteadyTime target;
  {
    std::lock_guard lock(mutex_);
    target = now_ + by;
  }
  for (;;) {
    std::function<void()> task;
    {
      std::lock_guard lock(mutex_);
      auto due = std::min_element(tasks_.begin(), tasks_.end(),
                                  [](const auto& a, const auto& b) { return a.first < b.first; });
      if (due == tasks_.end() || due->first > target) {
        now_ = target;
        return;
      }
      now_ = std::max(now_, due->first);
      task = std::move(due->second);
      tasks_.erase(due);
    }
    task();
  }
}

std::size_t ManualScheduler::pending() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

namespace {

std::string Service(const std::string& name) {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name +
         "\n  namespace: default\nspec:\n  clusterIP: 10.96.0." + std::to_string(name.size()) +
         "\n  selector:\n    app: " + name + "\n  ports:\n  - name: http\n    port: 9080\n---\n";
}

std::string Pod(const std::string& name, const std::string& app, const std::string& version, const std::string& ip) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: default\n  labels:\n    app: " +
         app + "\n    version: " + version + "\nspec:\n  containers:\n  - name: app\nstatus:\n  phase: Running\n" +
         "  podIP: " + ip + "\n  conditions:\n  - type: Ready\n    status: \"True\"\n---\n";
}

}  // namespace

model::ConfigSet MeshConfig(const std::string& extra_yaml) {
  const std::string yaml = Service("reviews") + Service("ratings") + Pod("reviews-v1-a", "reviews", "v1", "10.1.0.1") +
                           Pod("reviews-v2-a", "reviews", "v2", "10.1.0.2") +
                           Pod("ratings-v1-a", "ratings", "v1", "10.1.0.3") + extra_yaml;
  model::ParseResult result = model::ParseDocuments(yaml, "<test>");
  for (const auto& d : result.diagnostics) {
    if (d.severity == model::Severity::kError) ADD_FAILURE() << d.ToString();
  }
  return std::move(result.config);
}

std::string ReviewsSplitYaml(int v1_weight) {
  return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n"
         "  namespace: default\nspec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n"
         "  - name: v2\n    labels: {version: v2}\n---\n"
         "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
         "  namespace: default\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n"
         "    - destination: {host: reviews, subset: v1}\n      weight: " +
         std::to_string(v1_weight) +
         "\n    - destination: {host: reviews, subset: v2}\n      weight: " + std::to_string(100 - v1_weight) +
         "\n---\n";
}

compiler::ProxyNode Proxy(const std::string& node_id, const model::Labels& labels) {
  std::string error;
  auto node = compiler::ParseNodeId(node_id, &error);
  if (!node) {
    ADD_FAILURE() << error;
    return {};
  }
  node->labels = labels;
  return *node;
}

}  // namespace cmesh::pipeline::testing
