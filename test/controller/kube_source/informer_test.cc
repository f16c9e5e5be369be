#include "cmesh/kube_source/informer.h"

#include <gtest/gtest.h>

#include "cmesh/kube_source/watched_kinds.h"
#include "scripted_kube_client.h"

namespace cmesh::kube_source {
namespace {

using nlohmann::json;
using testing::Event;
using testing::ScriptedKubeClient;
using testing::GoneError;
using kube::WatchEventType;

json Pod(const std::string& name, const std::string& ip, const std::string& version, const std::string& rv,
         const std::string& annotation = "") {
  json pod = {{"metadata",
               {{"name", name},
                {"namespace", "default"},
                {"resourceVersion", rv},
                {"labels", {{"app", "reviews"}, {"version", version}}},
                {"annotations", {{"note", annotation}}}}},
              {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "x"}}})}}},
              {"status", {{"phase", "Running"}, {"podIP", ip}, {"hostIP", "192.168.0.1"}}}};
  return pod;
}

const WatchedKind& PodKind() {
  for (const auto& kind : WatchedKinds()) {
    if (kind.resource.kind == "Pod") return kind;
  }
  std::abort();
}

// Collects what the informer reports.
struct Recorder {
  std::mutex mutex;
  std::vector<std::vector<ObjectChange>> batches;
  Informer::Handler Handler() {
    return [this](const std::vector<ObjectChange>& changes) {
      std::lock_guard lock(mutex);
      batches.push_back(changes);
    };
  }
  std::vector<std::string> Keys(std::size_t batch) {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& change : batches.at(batch)) out.push_back((change.object ? "+" : "-") + change.key);
    return out;
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return batches.size();
  }
};

TEST(InformerTest, ListsThenReportsWatchEventsAndIgnoresChurnOfUnreadFields) {
  ScriptedKubeClient client;
  client.SetList("pods", {Pod("a", "10.0.0.1", "v1", "5"), Pod("b", "10.0.0.2", "v2", "6")}, "7");
  Recorder recorder;
  Informer informer(client, PodKind().resource, PodKind().reduce, recorder.Handler());
  informer.AddIndex("ip", [](const json& pod) {
    return std::vector<std::string>{pod["status"].value("podIP", "")};
  });
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(5)));
  EXPECT_EQ(recorder.Keys(0), (std::vector<std::string>{"+default/a", "+default/b"}));

  // An annotation and a resourceVersion change only: the reduced pod is the same, nothing reported.
  client.Push("pods", Event(WatchEventType::kModified, Pod("a", "10.0.0.1", "v1", "8", "touched")));
  // A label change is reported, and re-indexes nothing (same IP).
  client.Push("pods", Event(WatchEventType::kModified, Pod("a", "10.0.0.1", "v3", "9")));
  // A new IP moves the pod in the index.
  client.Push("pods", Event(WatchEventType::kModified, Pod("b", "10.0.0.9", "v2", "10")));
  client.Push("pods", Event(WatchEventType::kDeleted, Pod("a", "10.0.0.1", "v3", "11")));
  ASSERT_TRUE(client.Drained("pods"));
  ASSERT_EQ(recorder.size(), 4u);
  EXPECT_EQ(recorder.Keys(1), (std::vector<std::string>{"+default/a"}));
  EXPECT_EQ(recorder.Keys(2), (std::vector<std::string>{"+default/b"}));
  EXPECT_EQ(recorder.Keys(3), (std::vector<std::string>{"-default/a"}));
  EXPECT_TRUE(informer.ByIndex("ip", "10.0.0.2").empty());
  ASSERT_EQ(informer.ByIndex("ip", "10.0.0.9").size(), 1u);
  EXPECT_EQ(informer.ByIndex("ip", "10.0.0.9")[0]["metadata"]["name"], "b");
  EXPECT_EQ(informer.size(), 1u);
  EXPECT_EQ(informer.resource_version(), "11");
  // What the cache keeps: no annotations, no hostIP, no image.
  auto b = informer.Get("default/b");
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE((*b)["metadata"].contains("annotations"));
  EXPECT_FALSE((*b)["status"].contains("hostIP"));
  EXPECT_FALSE((*b)["spec"]["containers"][0].contains("image"));
  EXPECT_EQ((*b)["kind"], "Pod");
}

TEST(InformerTest, AWatchTheServerEndsResumesFromTheLastVersionSeen) {
  ScriptedKubeClient client;
  client.SetList("pods", {Pod("a", "10.0.0.1", "v1", "5")}, "7");
  Recorder recorder;
  Informer informer(client, PodKind().resource, PodKind().reduce, recorder.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(5)));
  client.Push("pods", Event(WatchEventType::kAdded, Pod("c", "10.0.0.3", "v1", "12")));
  client.Push("pods", ScriptedKubeClient::End{});
  client.Push("pods", Event(WatchEventType::kBookmark, {{"metadata", {{"resourceVersion", "20"}}}}));
  client.Push("pods", ScriptedKubeClient::End{});
  client.Push("pods", kube::KubeError{0, "", "connection reset"});
  ASSERT_TRUE(client.Drained("pods"));
  // From the list, after the event, after the bookmark, and after the failure (no new list).
  EXPECT_EQ(client.WatchStarts("pods"), (std::vector<std::string>{"7", "12", "20", "20"}));
  EXPECT_EQ(client.Lists("pods"), 1);
  EXPECT_EQ(recorder.size(), 2u);
}

TEST(InformerTest, GoneListsAgainAndReportsOnlyTheDifference) {
  ScriptedKubeClient client;
  client.SetList("pods",
                 {Pod("a", "10.0.0.1", "v1", "5"), Pod("b", "10.0.0.2", "v1", "6"), Pod("c", "10.0.0.3", "v1", "7")},
                 "7");
  Recorder recorder;
  Informer informer(client, PodKind().resource, PodKind().reduce, recorder.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(5)));
  // Meanwhile (events lost to compaction): a deleted, b relabelled, c only annotated, d added.
  client.SetList("pods",
                 {Pod("b", "10.0.0.2", "v2", "30"), Pod("c", "10.0.0.3", "v1", "31", "x"),
                  Pod("d", "10.0.0.4", "v1", "32")},
                 "40");
  client.Push("pods", GoneError());
  client.Push("pods", Event(WatchEventType::kAdded, Pod("e", "10.0.0.5", "v1", "41")));
  ASSERT_TRUE(client.Drained("pods"));
  ASSERT_EQ(recorder.size(), 3u);
  EXPECT_EQ(recorder.Keys(1), (std::vector<std::string>{"+default/b", "+default/d", "-default/a"}));
  EXPECT_EQ(recorder.Keys(2), (std::vector<std::string>{"+default/e"}));
  EXPECT_EQ(client.WatchStarts("pods"), (std::vector<std::string>{"7", "40"}));
  EXPECT_EQ(informer.stats().relists_after_gone, 1u);
  EXPECT_EQ(informer.Keys(), (std::vector<std::string>{"default/b", "default/c", "default/d", "default/e"}));
}

TEST(InformerTest, StopEndsAWatchInFlight) {
  ScriptedKubeClient client;
  Recorder recorder;
  auto informer = std::make_unique<Informer>(client, PodKind().resource, PodKind().reduce, recorder.Handler());
  informer->Start();
  ASSERT_TRUE(informer->WaitForSync(std::chrono::seconds(5)));
  ASSERT_TRUE(client.Drained("pods"));  // blocked in the watch
  informer->Stop();
  EXPECT_EQ(recorder.Keys(0), std::vector<std::string>{});
}

}  // namespace
}  // namespace cmesh::kube_source
