// RestKubeClient against the real kube-apiserver and etcd of the `kube` fixture. Each test works in
// its own namespace, so the tests may run in parallel.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include <condition_variable>
#include <fstream>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/kube/rest_kube_client.h"
#include "kube_env.h"
#include "loopback_client.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const ResourceKind kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceKind kServices{"", "v1", "services", "Service", true};
const ResourceKind kNamespaces{"", "v1", "namespaces", "Namespace", false};
const ResourceKind kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};

nlohmann::json ConfigMap(const std::string& name, nlohmann::json data,
                         nlohmann::json labels = nlohmann::json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", std::move(labels)}}},
          {"data", std::move(data)}};
}

std::string Name(const nlohmann::json& object) { return object.at("metadata").value("name", ""); }

std::unique_ptr<RestKubeClient> ClientFor(const KubeConfig& config) {
  KubeResult<std::unique_ptr<RestKubeClient>> created = RestKubeClient::Create(config);
  EXPECT_TRUE(created.ok()) << created.error.message;
  return created.ok() ? std::move(*created.value) : nullptr;
}

KubeConfig LoadOrFail(const std::string& path) {
  KubeResult<KubeConfig> loaded = LoadKubeconfig(path);
  EXPECT_TRUE(loaded.ok()) << loaded.error.message;
  return loaded.ok() ? *loaded.value : KubeConfig{};
}

class ApiserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CMESH_REQUIRE_KUBE();
    namespace_ = std::make_unique<testing::KubeNamespace>();
    ASSERT_EQ(namespace_->error(), "");
    ns_ = namespace_->name();
    admin_config_ = LoadOrFail(testing::KubeconfigPath());
    client_ = ClientFor(admin_config_);
    ASSERT_NE(client_, nullptr);
  }

  nlohmann::json MustCreate(const nlohmann::json& object, const ResourceKind& kind = kConfigMaps) {
    KubeResult<nlohmann::json> created = client_->Create(kind, ns_, object);
    EXPECT_TRUE(created.ok()) << created.error.message;
    return created.ok() ? *created.value : nlohmann::json();
  }

  std::unique_ptr<testing::KubeNamespace> namespace_;
  std::string ns_;
  KubeConfig admin_config_;
  std::unique_ptr<RestKubeClient> client_;
};

TEST_F(ApiserverTest, ListFollowsContinueAcrossPages) {
  std::set<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    std::string name = "cm-" + std::to_string(i);
    MustCreate(ConfigMap(name, {{"i", std::to_string(i)}},
                         {{"page-test", "yes"}, {"parity", i % 2 == 1 ? "odd" : "even"}}));
    expected.insert(name);
  }
  // 7 objects in pages of 3: three pages, two `continue` tokens to follow.
  KubeResult<ObjectList> listed = client_->List(kConfigMaps, ListOptions{ns_, "page-test=yes", "", 3});
  ASSERT_TRUE(listed.ok()) << listed.error.message;
  std::multiset<std::string> names;
  for (const nlohmann::json& item : listed.value->items) {
    names.insert(Name(item));
    EXPECT_EQ(item["kind"], "ConfigMap");  // filled in: list items come without it
    EXPECT_EQ(item["apiVersion"], "v1");
  }
  EXPECT_EQ(names, std::multiset<std::string>(expected.begin(), expected.end()));
  EXPECT_FALSE(listed.value->resource_version.empty());

  // A set-based selector: spaces, parentheses and commas survive the query string.
  KubeResult<ObjectList> odd = client_->List(kConfigMaps, ListOptions{ns_, "parity in (odd),page-test=yes", "", 2});
  ASSERT_TRUE(odd.ok()) << odd.error.message;
  std::set<std::string> odd_names;
  for (const nlohmann::json& item : odd.value->items) odd_names.insert(Name(item));
  EXPECT_EQ(odd_names, (std::set<std::string>{"cm-1", "cm-3", "cm-5"}));

  KubeResult<ObjectList> by_field =
      client_->List(kConfigMaps, ListOptions{ns_, "", "metadata.name=cm-4", 500});
  ASSERT_TRUE(by_field.ok()) << by_field.error.message;
  ASSERT_EQ(by_field.value->items.size(), 1u);
  EXPECT_EQ(Name(by_field.value->items[0]), "cm-4");
}

// Collects a watch's events on another thread.
class WatchRecorder {
 public:
  // Stops the watch (on_event returns false) once `stop_when` is true for an event.
  WatchRecorder(KubeClient& client, const ResourceKind& kind, WatchOptions options,
                std::function<bool(const WatchEvent&)> stop_when = [](const WatchEvent&) { return false; })
      : thread_([this, &client, kind, options, stop_when] {
          KubeError error = client.Watch(
              kind, options,
              [&](const WatchEvent& event) {
                std::lock_guard<std::mutex> lock(mutex_);
                events_.push_back(event);
                changed_.notify_all();
                return !stop_when(event);
              },
              cancel_);
          std::lock_guard<std::mutex> lock(mutex_);
          error_ = error;
          done_ = true;
          changed_.notify_all();
        }) {}
  ~WatchRecorder() {
    cancel_.Cancel();
    if (thread_.joinable()) thread_.join();
  }

  // Blocks until an event satisfies `predicate` or the watch ended; true in the first case.
  bool WaitFor(const std::function<bool(const WatchEvent&)>& predicate) {
    std::unique_lock<std::mutex> lock(mutex_);
    size_t seen = 0;
    for (;;) {
      for (; seen < events_.size(); ++seen) {
        if (predicate(events_[seen])) return true;
      }
      if (done_) return false;
      changed_.wait(lock);
    }
  }
  KubeError Finish() {
    thread_.join();
    return error_;
  }
  void Cancel() { cancel_.Cancel(); }
  std::vector<WatchEvent> events() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<WatchEvent> events_;
  KubeError error_;
  bool done_ = false;
  Cancellation cancel_;
  std::thread thread_;
};

TEST_F(ApiserverTest, WatchDeliversAddedModifiedDeletedInOrder) {
  KubeResult<ObjectList> start = client_->List(kConfigMaps, ListOptions{ns_, "watch-test=yes", "", 500});
  ASSERT_TRUE(start.ok()) << start.error.message;
  WatchOptions options{ns_, "watch-test=yes", start.value->resource_version, std::chrono::seconds(120), true};
  WatchRecorder recorder(*client_, kConfigMaps, options,
                         [](const WatchEvent& event) { return event.type == WatchEventType::kDeleted; });

  MustCreate(ConfigMap("w", {{"v", "1"}}, {{"watch-test", "yes"}}));
  KubeResult<nlohmann::json> patched =
      client_->Patch(kConfigMaps, ns_, "w", PatchType::kMerge, nlohmann::json{{"data", {{"v", "2"}}}});
  ASSERT_TRUE(patched.ok()) << patched.error.message;
  ASSERT_TRUE(client_->Delete(kConfigMaps, ns_, "w").message.empty());

  KubeError error = recorder.Finish();  // ends because the callback returned false on DELETED
  EXPECT_EQ(error.message, "");
  std::vector<WatchEventType> types;
  std::vector<std::string> values;
  for (const WatchEvent& event : recorder.events()) {
    if (event.type == WatchEventType::kBookmark) continue;
    types.push_back(event.type);
    EXPECT_EQ(Name(event.object), "w");
    EXPECT_EQ(event.object["kind"], "ConfigMap");
    values.push_back(event.object["data"]["v"].get<std::string>());
  }
  EXPECT_THAT(types, ElementsAre(WatchEventType::kAdded, WatchEventType::kModified, WatchEventType::kDeleted));
  EXPECT_THAT(values, ElementsAre("1", "2", "2"));
}

TEST_F(ApiserverTest, WatchSendsBookmarksWhenAsked) {
  KubeResult<ObjectList> start = client_->List(kConfigMaps, ListOptions{ns_, "bookmark-test=yes", "", 500});
  ASSERT_TRUE(start.ok()) << start.error.message;
  // kube-apiserver sends a bookmark shortly before a watch's timeout (and about every minute) when
  // its cache has moved past what the watch delivered: here a ConfigMap the selector does not match,
  // created once the watch is known to be live (it delivered the matching one).
  WatchOptions options{ns_, "bookmark-test=yes", start.value->resource_version, std::chrono::seconds(5), true};
  WatchRecorder recorder(*client_, kConfigMaps, options);
  nlohmann::json matched = MustCreate(ConfigMap("matched", {{"v", "1"}}, {{"bookmark-test", "yes"}}));
  ASSERT_TRUE(recorder.WaitFor([](const WatchEvent& e) { return e.type == WatchEventType::kAdded; }));
  MustCreate(ConfigMap("unmatched", {{"v", "1"}}));
  KubeError error = recorder.Finish();  // the server ends the watch
  EXPECT_EQ(error.message, "");
  std::vector<WatchEvent> events = recorder.events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(Name(events[0].object), "matched");
  for (size_t i = 1; i < events.size(); ++i) EXPECT_EQ(events[i].type, WatchEventType::kBookmark) << i;
  std::string version = events.back().object["metadata"]["resourceVersion"].get<std::string>();
  EXPECT_FALSE(version.empty());
  EXPECT_NE(version, matched["metadata"]["resourceVersion"]);
}

TEST_F(ApiserverTest, ServerCertificateIsVerifiedAgainstTheConfiguredCa) {
  testing::TempDir dir;
  testing::CommandResult made = testing::RunCommand(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
       "/CN=another-ca", "-days", "1", "-keyout", dir.Path("ca.key"), "-out", dir.Path("ca.crt")});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  KubeConfig config = admin_config_;
  config.ca_pem = testing::ReadFile(dir.Path("ca.crt"));
  RestClientOptions fast;
  fast.retry = BackoffPolicy{std::chrono::milliseconds(5), std::chrono::milliseconds(20), 2};
  KubeResult<std::unique_ptr<RestKubeClient>> untrusting = RestKubeClient::Create(config, fast);
  ASSERT_TRUE(untrusting.ok()) << untrusting.error.message;
  KubeResult<ObjectList> refused = (*untrusting.value)->List(kConfigMaps, ListOptions{ns_, "", "", 500});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error.http_status, 0);
  EXPECT_THAT(refused.error.message, HasSubstr("no answer from the API server at " + config.server));
  EXPECT_THAT(refused.error.message, HasSubstr("SSL handshake"));
  EXPECT_THAT(refused.error.message, HasSubstr("check that the certificate authority of " + config.source));

  // insecure-skip-tls-verify: the same CA no longer matters.
  config.insecure_skip_tls_verify = true;
  std::unique_ptr<RestKubeClient> insecure = ClientFor(config);
  ASSERT_NE(insecure, nullptr);
  KubeResult<ObjectList> listed = insecure->List(kConfigMaps, ListOptions{ns_, "", "", 500});
  EXPECT_TRUE(listed.ok()) << listed.error.message;
}

TEST_F(ApiserverTest, InClusterConfigurationAuthenticatesAsTheServiceAccount) {
  ASSERT_EQ(testing::RunKubectl({"create", "serviceaccount", "pod-identity", "-n", ns_}).exit_code, 0);
  testing::CommandResult issued =
      testing::RunKubectl({"create", "token", "pod-identity", "-n", ns_, "--duration", "10m"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  // What a pod would find in /var/run/secrets/kubernetes.io/serviceaccount and its environment.
  testing::TempDir dir;
  dir.Write("token", issued.out);
  dir.Write("ca.crt", admin_config_.ca_pem);
  dir.Write("namespace", ns_);
  std::string host_port = admin_config_.server.substr(std::string("https://").size());
  std::string port = host_port.substr(host_port.rfind(':') + 1);
  setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", port.c_str(), 1);
  KubeResult<KubeConfig> loaded = LoadInClusterConfig({dir.Path("token"), dir.Path("ca.crt"), dir.Path("namespace")});
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(loaded.ok()) << loaded.error.message;
  EXPECT_EQ(loaded.value->default_namespace, ns_);
  std::unique_ptr<RestKubeClient> client = ClientFor(*loaded.value);
  ASSERT_NE(client, nullptr);
  // Authenticated (not 401) as the ServiceAccount, which RBAC lets do nothing.
  KubeResult<ObjectList> listed = client->List(kConfigMaps, ListOptions{ns_, "", "", 500});
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error.http_status, 403);
  EXPECT_THAT(listed.error.message, StartsWith("RBAC: system:serviceaccount:" + ns_ + ":pod-identity cannot list"));
}

// etcd's JSON gateway: POST `path` with `body`, the answer's JSON body (null when it failed).
nlohmann::json EtcdPost(const std::string& endpoint, const std::string& path, const nlohmann::json& body) {
  // endpoint is http://127.0.0.1:PORT
  size_t colon = endpoint.rfind(':');
  int port = std::stoi(endpoint.substr(colon + 1));
  std::string text = body.dump();
  std::string answer = testing::ExchangeTcp(port, "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                  "Content-Type: application/json\r\nContent-Length: " +
                                                      std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text);
  size_t start = answer.find("\r\n\r\n");
  if (answer.rfind("HTTP/1.1 200", 0) != 0 || start == std::string::npos) {
    ADD_FAILURE() << "etcd " << path << ": " << answer;
    return nullptr;
  }
  std::string payload = answer.substr(start + 4);
  if (answer.find("Transfer-Encoding: chunked") != std::string::npos) {
    // One chunk is enough for these small answers: "<hex>\r\n<data>\r\n0\r\n\r\n".
    size_t line_end = payload.find("\r\n");
    size_t size = std::stoul(payload.substr(0, line_end), nullptr, 16);
    payload = payload.substr(line_end + 2, size);
  }
  return nlohmann::json::parse(payload, nullptr, false);
}

// CMESH_ETCD_ENDPOINT from an instance's env file.
std::string EtcdEndpoint(const std::string& kube_dir) {
  std::ifstream env(kube_dir + "/env");
  std::string line;
  const std::string key = "CMESH_ETCD_ENDPOINT=";
  while (std::getline(env, line)) {
    size_t at = line.find(key);
    if (at == std::string::npos) continue;
    std::string value = line.substr(at + key.size());
    value.erase(std::remove(value.begin(), value.end(), '\''), value.end());
    value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
    return value;
  }
  return "";
}

// A private etcd + kube-apiserver (its own CMESH_KUBE_DIR), for a test that restarts the server.
class PrivateCluster {
 public:
  PrivateCluster() : dir_(dir_holder_.Path("kube")) {
    testing::CommandResult up = Run({testing::SourceDir() + "/scripts/kube-up"});
    error_ = up.exit_code == 0 ? "" : "kube-up: " + up.err;
  }
  ~PrivateCluster() { Run({testing::SourceDir() + "/scripts/kube-down"}); }
  testing::CommandResult Run(const std::vector<std::string>& argv) {
    testing::CommandOptions options;
    options.env = {"CMESH_KUBE_DIR=" + dir_};
    options.timeout = std::chrono::seconds(300);
    return testing::RunCommand(argv, options);
  }
  const std::string& dir() const { return dir_; }
  const std::string& error() const { return error_; }

 private:
  testing::TempDir dir_holder_;
  std::string dir_;
  std::string error_;
};

// Compacts etcd at its current revision; "" or what failed.
std::string CompactEtcd(const std::string& kube_dir) {
  std::string endpoint = EtcdEndpoint(kube_dir);
  if (endpoint.empty()) return "no CMESH_ETCD_ENDPOINT in " + kube_dir + "/env";
  nlohmann::json range = EtcdPost(endpoint, "/v3/kv/range", {{"key", "Lw=="}, {"limit", 1}});  // key "/"
  if (!range.is_object()) return "etcd range failed";
  std::string revision = range["header"]["revision"].get<std::string>();
  if (!EtcdPost(endpoint, "/v3/kv/compaction", {{"revision", revision}, {"physical", true}}).is_object()) {
    return "etcd compaction at " + revision + " failed";
  }
  return "";
}

// A private cluster with a namespace "paged" holding ConfigMaps cm-0 .. cm-6.
class PagedListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CMESH_REQUIRE_KUBE();  // the shared fixture built the binaries the private instance reuses
    cluster_ = std::make_unique<PrivateCluster>();
    ASSERT_EQ(cluster_->error(), "");
    config_ = LoadOrFail(cluster_->dir() + "/kubeconfig");
    admin_ = ClientFor(config_);
    ASSERT_NE(admin_, nullptr);
    ASSERT_TRUE(admin_->Create(kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "paged"}}}}).ok());
    for (int i = 0; i < 7; ++i) {
      ASSERT_TRUE(admin_->Create(kConfigMaps, "paged", ConfigMap("cm-" + std::to_string(i), {{"v", "0"}})).ok());
    }
  }

  // After the first page of a list (at most `times` times): a write, so that etcd's revision is
  // past the list's snapshot, a compaction at that revision, and an apiserver restart (kube-apiserver
  // 1.34 serves `continue` pages from its watch cache's snapshots, which compaction leaves alone; a
  // restarted server has none older than itself and must ask etcd, which answers 410).
  std::unique_ptr<RestKubeClient> ClientCompactingAfterFirstPage(int times) {
    RestClientOptions options;
    options.after_list_page = [this, times](int page) {
      pages_.push_back(page);
      if (page != 0 || compactions_ >= times) return;
      ++compactions_;
      KubeResult<nlohmann::json> patched = admin_->Patch(kConfigMaps, "paged", "cm-0", PatchType::kMerge,
                                                         {{"data", {{"v", std::to_string(compactions_)}}}});
      EXPECT_TRUE(patched.ok()) << patched.error.message;
      EXPECT_EQ(CompactEtcd(cluster_->dir()), "");
      testing::CommandResult restarted =
          cluster_->Run({testing::SourceDir() + "/scripts/kube-up", "--restart-apiserver"});
      EXPECT_EQ(restarted.exit_code, 0) << restarted.err;
    };
    KubeResult<std::unique_ptr<RestKubeClient>> created = RestKubeClient::Create(config_, options);
    EXPECT_TRUE(created.ok()) << created.error.message;
    return created.ok() ? std::move(*created.value) : nullptr;
  }

  std::unique_ptr<PrivateCluster> cluster_;
  KubeConfig config_;
  std::unique_ptr<RestKubeClient> admin_;
  std::vector<int> pages_;
  int compactions_ = 0;
};

TEST_F(PagedListTest, ListRestartsOnceWhenItsSnapshotIsCompacted) {
  std::unique_ptr<RestKubeClient> client = ClientCompactingAfterFirstPage(1);
  ASSERT_NE(client, nullptr);
  KubeResult<ObjectList> listed = client->List(kConfigMaps, ListOptions{"paged", "", "", 3});
  ASSERT_TRUE(listed.ok()) << listed.error.message;
  // Page 0, then the continue request failed with 410: page 0 again from a new snapshot, 1 and 2.
  EXPECT_THAT(pages_, ElementsAre(0, 0, 1, 2));
  std::multiset<std::string> names;
  for (const nlohmann::json& item : listed.value->items) names.insert(Name(item));
  EXPECT_EQ(names, (std::multiset<std::string>{"cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5", "cm-6"}));
  for (const nlohmann::json& item : listed.value->items) {
    if (Name(item) == "cm-0") {
      EXPECT_EQ(item["data"]["v"], "1");  // the restarted list sees the write
    }
  }
}

TEST_F(PagedListTest, ListGivesUpWhenTheRestartIsCompactedToo) {
  std::unique_ptr<RestKubeClient> client = ClientCompactingAfterFirstPage(2);
  ASSERT_NE(client, nullptr);
  KubeResult<ObjectList> listed = client->List(kConfigMaps, ListOptions{"paged", "", "", 3});
  ASSERT_FALSE(listed.ok()) << ::testing::PrintToString(pages_);
  EXPECT_TRUE(listed.error.Gone()) << listed.error.message;
  EXPECT_THAT(listed.error.message, StartsWith("list v1 configmaps in namespace \"paged\": HTTP 410"));
  EXPECT_THAT(pages_, ElementsAre(0, 0));
}

// The watch cache serves recent versions from memory even after etcd compacted them, so compaction
// alone does not make a watch fail. A restarted apiserver starts its cache at the current version:
// with etcd compacted past the old version, neither the cache nor etcd can serve it.
TEST(PrivateApiserverTest, WatchFromAVersionCompactedAwayIsGone) {
  CMESH_REQUIRE_KUBE();  // the shared fixture built the binaries this private instance reuses
  PrivateCluster cluster;
  ASSERT_EQ(cluster.error(), "");
  std::unique_ptr<RestKubeClient> client = ClientFor(LoadOrFail(cluster.dir() + "/kubeconfig"));
  ASSERT_NE(client, nullptr);
  const std::string ns = "gone";
  ASSERT_TRUE(client->Create(kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}).ok());
  KubeResult<nlohmann::json> first = client->Create(kConfigMaps, ns, ConfigMap("old", {{"v", "1"}}));
  ASSERT_TRUE(first.ok()) << first.error.message;
  std::string old_version = (*first.value)["metadata"]["resourceVersion"];
  for (int i = 2; i <= 5; ++i) {
    ASSERT_TRUE(client->Patch(kConfigMaps, ns, "old", PatchType::kMerge, {{"data", {{"v", std::to_string(i)}}}}).ok());
  }

  std::string endpoint = EtcdEndpoint(cluster.dir());
  ASSERT_FALSE(endpoint.empty()) << "no CMESH_ETCD_ENDPOINT in " << cluster.dir() << "/env";
  nlohmann::json range = EtcdPost(endpoint, "/v3/kv/range", {{"key", "Lw=="}, {"limit", 1}});  // key "/"
  ASSERT_TRUE(range.is_object());
  std::string revision = range["header"]["revision"].get<std::string>();
  ASSERT_GT(std::stoll(revision), std::stoll(old_version));
  ASSERT_TRUE(EtcdPost(endpoint, "/v3/kv/compaction", {{"revision", revision}, {"physical", true}}).is_object());
  testing::CommandResult restarted = cluster.Run({testing::SourceDir() + "/scripts/kube-up", "--restart-apiserver"});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err;

  WatchOptions options{ns, "", old_version, std::chrono::seconds(30), true};
  std::vector<WatchEvent> events;
  Cancellation cancel;
  KubeError error = client->Watch(kConfigMaps, options,
                                  [&](const WatchEvent& event) {
                                    events.push_back(event);
                                    return true;
                                  },
                                  cancel);
  EXPECT_TRUE(error.Gone()) << error.http_status << " " << error.reason << ": " << error.message << " after "
                            << events.size() << " events";
  EXPECT_EQ(error.http_status, 410);
  EXPECT_THAT(error.message, HasSubstr("watch v1 configmaps in namespace \"gone\""));
  EXPECT_TRUE(events.empty());

  // The same client goes on working against the restarted server. Its pooled connection died with
  // the old server: the write fails on it before reaching anyone and is retried on a new one.
  KubeResult<nlohmann::json> patched =
      client->Patch(kConfigMaps, ns, "old", PatchType::kMerge, {{"data", {{"v", "6"}}}});
  ASSERT_TRUE(patched.ok()) << patched.error.message;
  KubeResult<nlohmann::json> got = client->Get(kConfigMaps, ns, "old");
  ASSERT_TRUE(got.ok()) << got.error.message;
  EXPECT_EQ((*got.value)["data"]["v"], "6");
}

TEST_F(ApiserverTest, CancellationEndsABlockingWatch) {
  // A watch the server would keep open for an hour; only Cancel can end it while the test runs
  // (a hang shows as the test's timeout).
  WatchOptions options{ns_, "", "", std::chrono::seconds(3600), true};
  WatchRecorder recorder(*client_, kConfigMaps, options);
  // Events arrive one by one while the body stays open: each is seen before the next is created.
  for (const std::string name : {"c1", "c2", "c3"}) {
    MustCreate(ConfigMap(name, {{"v", "1"}}));
    ASSERT_TRUE(recorder.WaitFor([&](const WatchEvent& e) {
      return e.type == WatchEventType::kAdded && Name(e.object) == name;
    })) << name;
  }
  recorder.Cancel();
  KubeError error = recorder.Finish();
  EXPECT_EQ(error.message, "");

  Cancellation cancelled;
  cancelled.Cancel();
  int calls = 0;
  KubeError early = client_->Watch(kConfigMaps, options, [&](const WatchEvent&) { return ++calls > 0; }, cancelled);
  EXPECT_EQ(early.message, "");
  EXPECT_EQ(calls, 0);
}

TEST_F(ApiserverTest, CreateGetUpdateAndConflict) {
  nlohmann::json created = MustCreate(ConfigMap("c", {{"a", "1"}}));
  ASSERT_TRUE(created.is_object());
  std::string uid = created["metadata"]["uid"];
  std::string version1 = created["metadata"]["resourceVersion"];

  KubeResult<nlohmann::json> got = client_->Get(kConfigMaps, ns_, "c");
  ASSERT_TRUE(got.ok()) << got.error.message;
  EXPECT_EQ((*got.value)["metadata"]["uid"], uid);
  EXPECT_EQ((*got.value)["data"]["a"], "1");

  nlohmann::json changed = *got.value;
  changed["data"]["a"] = "2";
  KubeResult<nlohmann::json> updated = client_->Update(kConfigMaps, ns_, changed);
  ASSERT_TRUE(updated.ok()) << updated.error.message;
  EXPECT_EQ((*updated.value)["data"]["a"], "2");
  EXPECT_NE((*updated.value)["metadata"]["resourceVersion"], version1);

  // `changed` still carries version1: the server refuses to overwrite the newer object.
  changed["data"]["a"] = "3";
  KubeResult<nlohmann::json> stale = client_->Update(kConfigMaps, ns_, changed);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error.Conflict());
  EXPECT_EQ(stale.error.reason, "Conflict");
  EXPECT_THAT(stale.error.message, StartsWith("update v1 configmaps \"c\" in namespace \"" + ns_ + "\": HTTP 409 Conflict"));

  KubeResult<nlohmann::json> again = client_->Create(kConfigMaps, ns_, ConfigMap("c", {{"a", "9"}}));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error.Conflict());
  EXPECT_EQ(again.error.reason, "AlreadyExists");

  KubeResult<nlohmann::json> missing = client_->Get(kConfigMaps, ns_, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error.NotFound());
}

TEST_F(ApiserverTest, MergeJsonAndStrategicPatches) {
  MustCreate(ConfigMap("p", {{"a", "1"}, {"b", "2"}}));
  KubeResult<nlohmann::json> merged = client_->Patch(kConfigMaps, ns_, "p", PatchType::kMerge,
                                                     {{"data", {{"b", nullptr}, {"c", "3"}}}});
  ASSERT_TRUE(merged.ok()) << merged.error.message;
  EXPECT_EQ((*merged.value)["data"], (nlohmann::json{{"a", "1"}, {"c", "3"}}));  // null removes a key

  nlohmann::json operations = nlohmann::json::array(
      {{{"op", "replace"}, {"path", "/data/a"}, {"value", "9"}}, {{"op", "add"}, {"path", "/data/d"}, {"value", "4"}}});
  KubeResult<nlohmann::json> json_patched = client_->Patch(kConfigMaps, ns_, "p", PatchType::kJson, operations);
  ASSERT_TRUE(json_patched.ok()) << json_patched.error.message;
  EXPECT_EQ((*json_patched.value)["data"], (nlohmann::json{{"a", "9"}, {"c", "3"}, {"d", "4"}}));

  nlohmann::json failing_test = nlohmann::json::array({{{"op", "test"}, {"path", "/data/a"}, {"value", "0"}}});
  KubeResult<nlohmann::json> refused = client_->Patch(kConfigMaps, ns_, "p", PatchType::kJson, failing_test);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error.message, StartsWith("patch v1 configmaps \"p\" in namespace \"" + ns_ + "\""));

  KubeResult<nlohmann::json> strategic = client_->Patch(kConfigMaps, ns_, "p", PatchType::kStrategicMerge,
                                                        {{"metadata", {{"labels", {{"x", "y"}}}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.error.message;
  EXPECT_EQ((*strategic.value)["metadata"]["labels"]["x"], "y");
  EXPECT_EQ((*strategic.value)["data"]["a"], "9");
}

TEST_F(ApiserverTest, UpdateStatusWritesOnlyTheStatus) {
  nlohmann::json service = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "lb"}}},
      {"spec", {{"type", "LoadBalancer"}, {"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", 8080}}}}}}};
  nlohmann::json created = MustCreate(service, kServices);
  ASSERT_TRUE(created.is_object());

  // Through the status subresource, a spec change is ignored and the status is kept.
  nlohmann::json with_status = created;
  with_status["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "192.0.2.10"}, {"ipMode", "VIP"}}}}}}};
  with_status["spec"]["ports"][0]["port"] = 81;
  KubeResult<nlohmann::json> status_updated = client_->UpdateStatus(kServices, ns_, with_status);
  ASSERT_TRUE(status_updated.ok()) << status_updated.error.message;
  EXPECT_EQ((*status_updated.value)["status"]["loadBalancer"]["ingress"][0]["ip"], "192.0.2.10");
  EXPECT_EQ((*status_updated.value)["spec"]["ports"][0]["port"], 80);

  // Through the main resource, the opposite.
  nlohmann::json without_status = *status_updated.value;
  without_status["status"] = nlohmann::json::object();
  without_status["spec"]["ports"][0]["port"] = 82;
  KubeResult<nlohmann::json> updated = client_->Update(kServices, ns_, without_status);
  ASSERT_TRUE(updated.ok()) << updated.error.message;
  EXPECT_EQ((*updated.value)["spec"]["ports"][0]["port"], 82);
  EXPECT_EQ((*updated.value)["status"]["loadBalancer"]["ingress"][0]["ip"], "192.0.2.10");
}

TEST_F(ApiserverTest, DeleteRemovesTheObject) {
  MustCreate(ConfigMap("d", {{"a", "1"}}));
  KubeError deleted = client_->Delete(kConfigMaps, ns_, "d");
  EXPECT_EQ(deleted.message, "");
  KubeResult<nlohmann::json> got = client_->Get(kConfigMaps, ns_, "d");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.error.NotFound());
  KubeError again = client_->Delete(kConfigMaps, ns_, "d");
  EXPECT_TRUE(again.NotFound());
  EXPECT_THAT(again.message, StartsWith("delete v1 configmaps \"d\" in namespace \"" + ns_ + "\": HTTP 404 NotFound"));
}

TEST_F(ApiserverTest, BadTokenIsUnauthorized) {
  KubeConfig config = admin_config_;
  config.client_cert_pem.clear();
  config.client_key_pem.clear();
  config.token = "not-a-token-this-server-issued";
  std::unique_ptr<RestKubeClient> client = ClientFor(config);
  ASSERT_NE(client, nullptr);
  KubeResult<ObjectList> listed = client->List(kConfigMaps, ListOptions{ns_, "", "", 500});
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error.http_status, 401);
  EXPECT_TRUE(listed.error.Forbidden());
  EXPECT_THAT(listed.error.message,
              StartsWith("Unauthorized: the API server at " + config.server + " rejected the credentials (bearer token "
                         "from " + config.source + ") to list v1 configmaps in namespace \"" + ns_ + "\""));
}

TEST_F(ApiserverTest, PilotIdentityWithoutRbacIsForbidden) {
  std::unique_ptr<RestKubeClient> pilot = ClientFor(LoadOrFail(testing::PilotKubeconfigPath()));
  ASSERT_NE(pilot, nullptr);
  const std::string user = "system:serviceaccount:istio-system:cmesh-pilot";

  KubeResult<ObjectList> listed = pilot->List(kConfigMaps, ListOptions{ns_, "", "", 500});
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error.http_status, 403);
  EXPECT_THAT(listed.error.message,
              StartsWith("RBAC: " + user + " cannot list v1 configmaps in namespace \"" + ns_ +
                         "\"; the ClusterRole needs: apiGroups [\"\"], resources [\"configmaps\"], verbs [\"list\"]"));

  Cancellation cancel;
  KubeError watched = pilot->Watch(kNamespaces, WatchOptions{}, [](const WatchEvent&) { return true; }, cancel);
  EXPECT_EQ(watched.http_status, 403);
  EXPECT_THAT(watched.message,
              StartsWith("RBAC: " + user + " cannot watch v1 namespaces in the cluster scope; the ClusterRole needs: "
                         "apiGroups [\"\"], resources [\"namespaces\"], verbs [\"watch\"]"));

  KubeResult<nlohmann::json> patched =
      pilot->Patch(kLeases, ns_, "cmesh-leader", PatchType::kMerge, {{"spec", {{"holderIdentity", "me"}}}});
  ASSERT_FALSE(patched.ok());
  EXPECT_THAT(patched.error.message,
              StartsWith("RBAC: " + user + " cannot patch coordination.k8s.io/v1 leases \"cmesh-leader\" in namespace \"" +
                         ns_ + "\"; the ClusterRole needs: apiGroups [\"coordination.k8s.io\"], resources "
                         "[\"leases\"], verbs [\"patch\"]"));
}

TEST_F(ApiserverTest, RotatedTokenFileIsReReadAfterUnauthorized) {
  // A real service-account token from the TokenRequest API (kubectl create token).
  ASSERT_EQ(testing::RunKubectl({"create", "serviceaccount", "robot", "-n", ns_}).exit_code, 0);
  testing::CommandResult issued = testing::RunKubectl({"create", "token", "robot", "-n", ns_, "--duration", "10m"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  std::string token = issued.out;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  ASSERT_FALSE(token.empty());

  // The file first holds garbage of the same length with a fixed mtime; the rotated token is then
  // written with that same size and mtime, so only the 401 can make the client re-read it.
  testing::TempDir dir;
  const std::string path = dir.Path("token");
  auto write_token = [&](const std::string& text) {
    dir.Write("token", text);
    struct timespec times[2] = {{1000, 0}, {1000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  };
  write_token(std::string(token.size(), 'x'));
  KubeConfig config = admin_config_;
  config.client_cert_pem.clear();
  config.client_key_pem.clear();
  config.token_file = path;
  std::unique_ptr<RestKubeClient> client = ClientFor(config);
  ASSERT_NE(client, nullptr);
  KubeResult<ObjectList> before = client->List(kConfigMaps, ListOptions{ns_, "", "", 500});
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error.http_status, 401);

  write_token(token);
  // Authenticated now (as the ServiceAccount, which RBAC lets do nothing): 403 instead of 401.
  KubeResult<ObjectList> after = client->List(kConfigMaps, ListOptions{ns_, "", "", 500});
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error.http_status, 403);
  EXPECT_THAT(after.error.message, StartsWith("RBAC: system:serviceaccount:" + ns_ + ":robot cannot list"));
}

}  // namespace
}  // namespace cmesh::kube
