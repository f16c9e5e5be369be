#include "cmesh/kube_source/kube_source.h"

#include <atomic>

#include <gtest/gtest.h>

#include "cmesh/pipeline/push_pipeline.h"
#include "cmesh/pipeline/scheduler.h"
#include "cmesh/xds/resource_interner.h"
#include "cmesh/xds/snapshot_cache.h"
#include "scripted_kube_client.h"

namespace cmesh::kube_source {
namespace {

using nlohmann::json;
using testing::Event;
using testing::ScriptedKubeClient;
using kube::WatchEventType;

json VirtualService(const std::string& name, json route) {
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"generation", 1}, {"resourceVersion", "3"}}},
          {"spec", {{"hosts", {"reviews"}}, {"http", json::array({{{"route", route}}})}}}};
}

json Pod(const std::string& version, const std::string& rv, const std::string& annotation) {
  return {{"metadata",
           {{"name", "reviews-a"},
            {"namespace", "default"},
            {"resourceVersion", rv},
            {"labels", {{"app", "reviews"}, {"version", version}}},
            {"annotations", {{"note", annotation}}}}},
          {"spec", {{"containers", json::array({{{"name", "app"}}})}}},
          {"status",
           {{"phase", "Running"},
            {"podIP", "10.1.0.1"},
            {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
}

struct Harness {
  pipeline::ThreadScheduler scheduler;
  xds::SnapshotCache cache;
  xds::ResourceInterner interner;
  std::atomic<int> pushes{0};
  pipeline::PushPipeline pipeline{cache, interner, scheduler, Options()};
  pipeline::SourceMerger merger{pipeline, scheduler, {std::chrono::milliseconds(5), std::chrono::milliseconds(50)}};

  pipeline::PushPipelineOptions Options() {
    pipeline::PushPipelineOptions options;
    options.on_push = [this](const pipeline::PushStats&) { ++pushes; };
    return options;
  }
};

TEST(KubeSourceTest, PushesOnceEverythingSyncedThenOnlyRealChanges) {
  ScriptedKubeClient client;
  client.SetList("virtualservices",
                 {VirtualService("reviews", json::array({{{"destination", {{"host", "reviews"}, {"subset", "v1"}}}}})),
                  VirtualService("broken", json::array({{{"destination", json::object()}}}))},
                 "10");
  client.SetList("destinationrules",
                 {{{"metadata", {{"name", "reviews"}, {"namespace", "default"}, {"generation", 2}}},
                   {"spec", {{"host", "reviews"}, {"subsets", json::array({{{"name", "v1"}, {"labels", {{"version", "v1"}}}}})}}}}},
                 "10");
  client.SetList("services",
                 {{{"metadata", {{"name", "reviews"}, {"namespace", "default"}}},
                   {"spec", {{"clusterIP", "10.0.0.20"}, {"selector", {{"app", "reviews"}}},
                             {"ports", json::array({{{"name", "http"}, {"port", 9080}}})}}}}},
                 "10");
  client.SetList("pods", {Pod("v1", "4", "a")}, "10");
  client.SetList("namespaces", {{{"metadata", {{"name", "default"}, {"labels", {{"istio-injection", "enabled"}}}}}}}, "10");

  Harness harness;
  std::mutex mutex;
  std::vector<ValidatedObject> validated;
  std::atomic<int> synced_calls{0};
  KubeSourceOptions options;
  options.on_validated = [&](const std::vector<ValidatedObject>& objects) {
    std::lock_guard lock(mutex);
    validated.insert(validated.end(), objects.begin(), objects.end());
  };
  options.on_synced = [&] { ++synced_calls; };
  KubeSource source(client, harness.merger, options);
  for (const char* plural : {"virtualservices", "destinationrules", "services", "endpointslices", "pods", "namespaces"}) {
    ASSERT_TRUE(client.Drained(plural)) << plural;
  }
  ASSERT_TRUE(source.synced());
  EXPECT_EQ(synced_calls.load(), 1);
  EXPECT_EQ(harness.pushes.load(), 1);

  // The invalid VirtualService is left out; everything else is served.
  auto config = harness.merger.config();
  ASSERT_EQ(config->virtual_services.size(), 1u);
  EXPECT_EQ(config->virtual_services[0].meta.name, "reviews");
  EXPECT_EQ(config->destination_rules.size(), 1u);
  EXPECT_EQ(config->services.size(), 1u);
  ASSERT_EQ(config->pods.size(), 1u);
  EXPECT_EQ(config->pods[0].pod_ip, "10.1.0.1");
  ASSERT_EQ(config->namespaces.size(), 1u);
  EXPECT_EQ(config->namespaces[0].meta.labels.at("istio-injection"), "enabled");
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(validated.size(), 3u);  // both VirtualServices and the DestinationRule
    int errors = 0;
    for (const auto& object : validated) {
      if (object.object["metadata"]["name"] == "broken") {
        ASSERT_FALSE(object.diagnostics.empty());
        EXPECT_EQ(object.diagnostics[0].severity, model::Severity::kError);
        EXPECT_NE(object.diagnostics[0].field.find("destination"), std::string::npos) << object.diagnostics[0].ToString();
        ++errors;
      } else {
        EXPECT_TRUE(object.diagnostics.empty()) << object.diagnostics[0].ToString();
      }
    }
    EXPECT_EQ(errors, 1);
    validated.clear();
  }

  // A proxy's pod, by its name or, when the node id has none, by its IP within its namespace.
  auto by_name = source.PodLabels("default", "reviews-a", "");
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(by_name->at("version"), "v1");
  auto by_ip = source.PodLabels("default", "", "10.1.0.1");
  ASSERT_TRUE(by_ip.has_value());
  EXPECT_EQ(by_ip->at("app"), "reviews");
  EXPECT_FALSE(source.PodLabels("other", "", "10.1.0.1").has_value());
  EXPECT_FALSE(source.PodLabels("default", "", "10.9.9.9").has_value());

  // An annotation-only Pod update: the config is not even rebuilt.
  auto before = source.config();
  client.Push("pods", Event(WatchEventType::kModified, Pod("v1", "11", "b")));
  ASSERT_TRUE(client.Drained("pods"));
  EXPECT_EQ(source.config().get(), before.get());

  // A label change is a change: pushed (debounced), with the new labels.
  client.Push("pods", Event(WatchEventType::kModified, Pod("v2", "12", "b")));
  ASSERT_TRUE(client.Drained("pods"));
  for (int i = 0; i < 200 && harness.pushes.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(harness.pushes.load(), 2);
  config = harness.merger.config();
  ASSERT_EQ(config->pods.size(), 1u);
  EXPECT_EQ(config->pods[0].meta.labels.at("version"), "v2");

  // Fixing the broken VirtualService serves it and reports it valid.
  client.Push("virtualservices",
              Event(WatchEventType::kModified,
                    VirtualService("broken", json::array({{{"destination", {{"host", "reviews"}}}}}))));
  ASSERT_TRUE(client.Drained("virtualservices"));
  for (int i = 0; i < 200 && harness.merger.config()->virtual_services.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(harness.merger.config()->virtual_services.size(), 2u);
  std::lock_guard lock(mutex);
  ASSERT_EQ(validated.size(), 1u);
  EXPECT_EQ(validated[0].object["metadata"]["name"], "broken");
  EXPECT_TRUE(validated[0].diagnostics.empty());
}

}  // namespace
}  // namespace cmesh::kube_source
