// The install commands of issue 7 on a real kube-apiserver of the test's own (scripts/kube-up in a
// temporary CMESH_KUBE_DIR: the webhook configurations and the cluster-wide RBAC must not reach the
// shared fixture instance, whose other tests apply VirtualServices and create Pods).
// There is no kubelet, so cmesh-pilot's Deployment never runs; what is checked is that the apiserver
// takes every object, that the webhooks are registered with the selectors meant, that the pilot's
// identity may patch its webhook configurations and nothing else of their kind, and that
// `helm uninstall` keeps the CRDs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eventually.h"
#include "kube_env.h"
#include "loopback_client.h"
#include "pilot_process.h"
#include "private_kube_cluster.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

using ::testing::HasSubstr;

// The test's own kube-apiserver (test/support/private_kube_cluster.h).
using PrivateCluster = PrivateKubeCluster;

std::string Pod(const std::string& ns, const std::string& name) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  containers:\n  - name: app\n    image: example/app:1\n";
}

std::string VirtualService(const std::string& ns) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: " + ns +
         "\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n";
}

TEST(InstallClusterTest, HelmInstallsBothChartsAndUninstallKeepsOnlyTheCrds) {
  CMESH_REQUIRE_KUBE();  // helm, kubectl and the apiserver binaries are the fixture's
  PrivateCluster cluster;
  ASSERT_EQ(cluster.error(), "");
  const std::string charts = SourceDir() + "/charts";
  CommandResult r = cluster.Helm({"install", "cmesh-base", charts + "/base", "-n", "istio-system", "--create-namespace"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = cluster.Helm({"install", "cmesh", charts + "/cmesh", "-n", "istio-system"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const auto& [kind, name, ns] : CmeshChartObjects()) EXPECT_TRUE(cluster.Exists(kind, name, ns)) << kind << " " << name;

  // The pilot's identity: its webhook configurations by name, nothing else of their kind.
  EXPECT_TRUE(cluster.PilotCan({"get", "mutatingwebhookconfigurations/cmesh-sidecar-injector"}));
  EXPECT_TRUE(cluster.PilotCan({"patch", "mutatingwebhookconfigurations/cmesh-sidecar-injector"}));
  EXPECT_TRUE(cluster.PilotCan({"patch", "validatingwebhookconfigurations/cmesh-validator"}));
  EXPECT_FALSE(cluster.PilotCan({"patch", "mutatingwebhookconfigurations/someone-elses"}));
  EXPECT_FALSE(cluster.PilotCan({"patch", "validatingwebhookconfigurations/cmesh-sidecar-injector"}));
  EXPECT_FALSE(cluster.PilotCan({"delete", "mutatingwebhookconfigurations/cmesh-sidecar-injector"}));
  EXPECT_FALSE(cluster.PilotCan({"list", "mutatingwebhookconfigurations"}));
  EXPECT_TRUE(cluster.PilotCan({"update", "leases.coordination.k8s.io", "-n", "istio-system"}));

  // The apiserver now sends pods of a labelled namespace and every VirtualService to cmesh-pilot's
  // Service, which nothing serves here (no kubelet, no kube-proxy): with failurePolicy Fail the
  // requests are refused, naming the webhook, which shows they are registered and selected.
  ASSERT_EQ(cluster.Kubectl({"create", "namespace", "injected"}).exit_code, 0);
  ASSERT_EQ(cluster.Kubectl({"label", "namespace", "injected", "istio-injection=enabled"}).exit_code, 0);
  ASSERT_EQ(cluster.Kubectl({"create", "namespace", "plain"}).exit_code, 0);
  r = cluster.Kubectl({"create", "-f", "-"}, Pod("injected", "app"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("namespace.sidecar-injector.cmesh.io"));
  r = cluster.Kubectl({"create", "-f", "-"}, Pod("plain", "app"));
  EXPECT_EQ(r.exit_code, 0) << "an unlabelled namespace must not reach the injector: " << r.err;
  r = cluster.Kubectl({"create", "-f", "-"}, VirtualService("plain"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("validation.cmesh.io"));

  r = cluster.Helm({"uninstall", "cmesh", "-n", "istio-system"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = cluster.Helm({"uninstall", "cmesh-base", "-n", "istio-system"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const auto& [kind, name, ns] : CmeshChartObjects()) {
    if (kind == "customresourcedefinition") {
      EXPECT_TRUE(cluster.Exists(kind, name, ns)) << name << " must survive helm uninstall";
    } else {
      EXPECT_FALSE(cluster.Exists(kind, name, ns)) << kind << " " << name << " is left after helm uninstall";
    }
  }
  // With the webhooks gone, the kept CRD takes VirtualServices again.
  r = cluster.Kubectl({"create", "-f", "-"}, VirtualService("plain"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(InstallClusterTest, KubectlCreatesTheManifestsAsTheChartsInstallThem) {
  CMESH_REQUIRE_KUBE();
  PrivateCluster cluster;
  ASSERT_EQ(cluster.error(), "");
  CommandResult r = cluster.Kubectl({"create", "-f", SourceDir() + "/manifests/cmesh.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(cluster.Exists("namespace", "istio-system"));
  for (const auto& [kind, name, ns] : CmeshChartObjects()) EXPECT_TRUE(cluster.Exists(kind, name, ns)) << kind << " " << name;
  // Nothing else: one object per document, the Namespace included.
  int documents = 0;
  for (const YAML::Node& doc : YAML::LoadAll(ReadFile(SourceDir() + "/manifests/cmesh.yaml"))) {
    if (doc.IsMap()) ++documents;
  }
  EXPECT_EQ(documents, static_cast<int>(CmeshChartObjects().size()) + 1);
  EXPECT_TRUE(cluster.PilotCan({"patch", "mutatingwebhookconfigurations/cmesh-sidecar-injector"}));
}

// A TCP port free now on 127.0.0.1 (the kernel's pick; released before it is used).
// The charts as installed, with the webhooks pointed (webhook.url) at cmesh-pilot run here as a
// local process with the chart's own injection ConfigMap and the ServiceAccount's RBAC
// (pilot.kubeconfig is that identity): the leader patches the caBundle, the apiserver then injects
// pods of a labelled namespace through it and refuses an invalid VirtualService.
TEST(InstallClusterTest, ChartsInstallAWorkingInjectorAndValidatorWithALocalPilot) {
  CMESH_REQUIRE_KUBE();
  PrivateCluster cluster;
  ASSERT_EQ(cluster.error(), "");
  const int webhook_port = FreeTcpPort();
  ASSERT_GT(webhook_port, 0);
  const std::string charts = SourceDir() + "/charts";
  CommandResult r = cluster.Helm({"install", "cmesh-base", charts + "/base", "-n", "istio-system", "--create-namespace"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = cluster.Helm({"install", "cmesh", charts + "/cmesh", "-n", "istio-system", "--set",
                    "webhook.url=https://127.0.0.1:" + std::to_string(webhook_port)});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  // Labelled before the pilot starts, so its Namespace informer has the label from the first list.
  ASSERT_EQ(cluster.Kubectl({"create", "namespace", "bookinfo"}).exit_code, 0);
  ASSERT_EQ(cluster.Kubectl({"label", "namespace", "bookinfo", "istio-injection=enabled"}).exit_code, 0);

  // The injection config as the Deployment would mount it.
  r = cluster.Kubectl({"get", "configmap", "cmesh-sidecar-injector", "-n", "istio-system", "-o",
                       "jsonpath={.data.config\\.yaml}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_THAT(r.out, HasSubstr("template:"));
  {
    std::ofstream(cluster.Path("injection.yaml")) << r.out;
  }
  PilotProcess pilot({"--kubeconfig", cluster.Path("pilot.kubeconfig"), "--leader-election-namespace", "istio-system",
                      "--identity", "local-pilot", "--listen-address", "127.0.0.1", "--xds-port", "0",
                      "--monitoring-port", "0", "--debug-port", "0", "--webhook-port", std::to_string(webhook_port),
                      "--webhook-ips", "127.0.0.1", "--injection-config", cluster.Path("injection.yaml")});
  ASSERT_TRUE(pilot.started());
  const auto debug = pilot.WaitForPort("debug", std::chrono::seconds(30));
  ASSERT_TRUE(debug) << pilot.Log();
  ASSERT_TRUE(Eventually([&] { return HttpGet(*debug, "/ready").status == 200; }, std::chrono::seconds(60))) << pilot.Log();
  for (const char* config : {"mutatingwebhookconfiguration/cmesh-sidecar-injector",
                             "validatingwebhookconfiguration/cmesh-validator"}) {
    EXPECT_TRUE(Eventually([&] {
      CommandResult got = cluster.Kubectl({"get", config, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"});
      return got.exit_code == 0 && !got.out.empty();
    })) << config << " has no caBundle:\n" << pilot.Log();
  }

  // The apiserver picks up the patched configuration a moment later: retry while the call fails.
  const std::string pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: reviews-v1\n  namespace: bookinfo\n"
                          "  labels: {app: reviews, version: v1}\nspec:\n  containers:\n  - name: reviews\n"
                          "    image: example/reviews:1\n    ports: [{containerPort: 9080}]\n";
  std::string last_error;
  ASSERT_TRUE(Eventually([&] {
    CommandResult created = cluster.Kubectl({"create", "-f", "-"}, pod);
    last_error = created.err;
    return created.exit_code == 0;
  })) << last_error << "\n" << pilot.Log();
  r = cluster.Kubectl({"get", "pod", "reviews-v1", "-n", "bookinfo", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto stored = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(stored.is_object());
  std::vector<std::string> containers, init_containers;
  for (const auto& c : stored["spec"]["containers"]) containers.push_back(c.value("name", ""));
  for (const auto& c : stored["spec"].value("initContainers", nlohmann::json::array())) init_containers.push_back(c.value("name", ""));
  EXPECT_THAT(containers, ::testing::ElementsAre("reviews", "cmesh-proxy"));
  EXPECT_THAT(init_containers, ::testing::ElementsAre("cmesh-init"));
  EXPECT_TRUE(stored["metadata"]["annotations"].contains("sidecar.istio.io/status")) << stored["metadata"].dump();
  // With the chart's values: the proxy image and the pilot Service's xDS address.
  for (const auto& c : stored["spec"]["containers"]) {
    if (c.value("name", "") != "cmesh-proxy") continue;
    EXPECT_EQ(c.value("image", ""), "cmesh/proxy:0.1.0");
    EXPECT_THAT(c["args"].dump(), HasSubstr("cmesh-pilot.istio-system.svc:15010"));
  }
  // A pod of an unlabelled namespace is left alone (the apiserver does not even call).
  ASSERT_EQ(cluster.Kubectl({"create", "namespace", "plain"}).exit_code, 0);
  r = cluster.Kubectl({"create", "-f", "-"}, Pod("plain", "app"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cluster.Kubectl({"get", "pod", "app", "-n", "plain", "-o", "jsonpath={.spec.containers[*].name}"}).out, "app");

  // Validation at apply time.
  r = cluster.Kubectl({"apply", "-f", "-"}, VirtualService("bookinfo"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string invalid = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: bad\n"
                              "  namespace: bookinfo\nspec:\n  hosts: [ratings]\n  http:\n  - match:\n"
                              "    - uri: {regex: \"(unclosed\"}\n    route:\n    - destination: {host: ratings}\n";
  r = cluster.Kubectl({"apply", "-f", "-"}, invalid);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("validation.cmesh.io"));
  EXPECT_THAT(r.err, HasSubstr("denied the request"));
  EXPECT_THAT(r.err, HasSubstr("regex"));
}

}  // namespace
}  // namespace cmesh::testing
