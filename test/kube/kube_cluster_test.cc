// The test cluster itself: the version built from the pinned module, readiness, the two identities
// kube-up issues (admin and the cmesh-pilot ServiceAccount), RBAC, and the fixture's helm.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "kube_env.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPilotUser = "system:serviceaccount:istio-system:cmesh-pilot";

// The version a wrapper module of test/fixtures/kube pins, e.g. "v1.34.4".
std::string PinnedVersion(const std::string& wrapper, const std::string& module) {
  std::string go_mod = ReadFile(SourceDir() + "/test/fixtures/kube/" + wrapper + "/go.mod");
  std::smatch m;
  std::regex re("(^|\\n)(require\\s+)?\\s*" + std::regex_replace(module, std::regex("\\."), "\\.") +
                "\\s+(v[0-9][^\\s]*)");
  return std::regex_search(go_mod, m, re) ? m[3].str() : "";
}

nlohmann::json ParseJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j;
}

TEST(KubeClusterTest, ServerAndKubectlReportThePinnedVersion) {
  CMESH_REQUIRE_KUBE();
  const std::string pinned = PinnedVersion("kubernetes", "k8s.io/kubernetes");
  ASSERT_THAT(pinned, ::testing::MatchesRegex("v1\\.[0-9]+\\.[0-9]+"));
  CommandResult r = RunKubectl({"version", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json v = ParseJson(r.out);
  // Without the -X flags of the build both would say v0.0.0 and kubectl would warn about skew.
  EXPECT_EQ(v["serverVersion"]["gitVersion"], pinned);
  EXPECT_EQ(v["clientVersion"]["gitVersion"], pinned);
  EXPECT_EQ(v["serverVersion"]["major"], "1");
  EXPECT_EQ(v["serverVersion"]["minor"], pinned.substr(3, pinned.find('.', 3) - 3));
  EXPECT_GE(std::stoi(v["serverVersion"]["minor"].get<std::string>()), 34);
  EXPECT_FALSE(v.contains("warning")) << v.dump();
}

TEST(KubeClusterTest, ReadyzIsOkIncludingRbacBootstrap) {
  CMESH_REQUIRE_KUBE();
  CommandResult r = RunKubectl({"get", "--raw", "/readyz"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok");
  r = RunKubectl({"get", "--raw", "/readyz?verbose"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("[+]etcd ok"));
  EXPECT_THAT(r.out, HasSubstr("[+]poststarthook/rbac/bootstrap-roles ok"));
}

TEST(KubeClusterTest, AdminIsInSystemMasters) {
  CMESH_REQUIRE_KUBE();
  CommandResult r = RunKubectl({"auth", "whoami", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json who = ParseJson(r.out);
  EXPECT_EQ(who["status"]["userInfo"]["username"], "cmesh-admin");
  EXPECT_THAT(who["status"]["userInfo"]["groups"].get<std::vector<std::string>>(),
              Contains("system:masters"));
}

TEST(KubeClusterTest, PilotKubeconfigAuthenticatesAsTheServiceAccount) {
  CMESH_REQUIRE_KUBE();
  CommandResult r = RunKubectlAs(PilotKubeconfigPath(), {"auth", "whoami", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json who = ParseJson(r.out);
  EXPECT_EQ(who["status"]["userInfo"]["username"], kPilotUser);
  auto groups = who["status"]["userInfo"]["groups"].get<std::vector<std::string>>();
  // The groups a real token of that ServiceAccount carries.
  EXPECT_THAT(groups, Contains("system:serviceaccounts"));
  EXPECT_THAT(groups, Contains("system:serviceaccounts:istio-system"));
  EXPECT_THAT(groups, Contains("system:authenticated"));
  EXPECT_THAT(groups, Not(Contains("system:masters")));
}

TEST(KubeClusterTest, PilotGetsNothingWithoutABinding) {
  CMESH_REQUIRE_KUBE();
  CommandResult r = RunKubectlAs(PilotKubeconfigPath(), {"get", "namespaces"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("forbidden"));
  EXPECT_THAT(r.err, HasSubstr(std::string("User \"") + kPilotUser + "\""));
}

// What the charts will rely on: a RoleBinding whose subject is the ServiceAccount applies to the
// certificate identity that kube-up issues for it.
TEST(KubeClusterTest, RoleBindingToTheServiceAccountAppliesToPilot) {
  CMESH_REQUIRE_KUBE();
  KubeNamespace ns;
  ASSERT_EQ(ns.error(), "");
  std::string objects = R"({"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
     "metadata": {"name": "read-configmaps"},
     "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "pilot-reads-configmaps"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
     "subjects": [{"kind": "ServiceAccount", "name": "cmesh-pilot", "namespace": "istio-system"}]}]})";
  CommandResult r = RunKubectl({"create", "-n", ns.name(), "-f", "-"}, objects);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The authorizer reads bindings from a cache that follows the write within moments.
  CommandResult list;
  for (int i = 0; i < 100; ++i) {
    list = RunKubectlAs(PilotKubeconfigPath(), {"get", "configmaps", "-n", ns.name()});
    if (list.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(list.exit_code, 0) << list.err;
  // The Role grants reading only.
  r = RunKubectlAs(PilotKubeconfigPath(), {"create", "configmap", "x", "-n", ns.name()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("forbidden"));
  // ... and only in that namespace.
  r = RunKubectlAs(PilotKubeconfigPath(), {"get", "configmaps", "-n", "default"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("forbidden"));
}

TEST(KubeClusterTest, EnvFileExportsTheFixture) {
  CMESH_REQUIRE_KUBE();
  std::string env = ReadFile(KubeDir() + "/env");
  EXPECT_THAT(env, HasSubstr("export KUBECONFIG='" + KubeconfigPath() + "'"));
  EXPECT_THAT(env, HasSubstr("export PATH='" + KubeDir() + "/bin':"));
  EXPECT_THAT(env, ::testing::ContainsRegex("export CMESH_ETCD_ENDPOINT=http://127\\.0\\.0\\.1:[0-9]+"));
  // Sourcing it gives a shell the fixture's kubectl first, talking to this instance.
  CommandResult r = RunCommand({"/bin/bash", "-c", ". \"$0\"/env && command -v kubectl && kubectl get --raw /readyz",
                                KubeDir()},
                               {.stdin_text = "", .env = {"KUBECONFIG=/nonexistent"}, .timeout = std::chrono::seconds(60)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, KubeBin("kubectl") + "\nok");
}

TEST(KubeClusterTest, EtcdEndpointAnswers) {
  CMESH_REQUIRE_KUBE();
  std::string env = ReadFile(KubeDir() + "/env");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(env, m, std::regex("CMESH_ETCD_ENDPOINT=http://127\\.0\\.0\\.1:([0-9]+)")));
  // bash's /dev/tcp: no curl on a fresh machine.
  CommandResult r = RunCommand(
      {"/bin/bash", "-c",
       "exec 3<>/dev/tcp/127.0.0.1/$0 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3", m[1].str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"health\":\"true\""));
}

TEST(KubeClusterTest, HelmKnowsItsVersionAndTheKubernetesVersion) {
  CMESH_REQUIRE_KUBE();
  TempDir dir;
  // helm template needs no cluster; without the build's -X flags it would assume Kubernetes v1.20.
  std::filesystem::create_directories(dir.Path("chart/templates"));
  dir.Write("chart/Chart.yaml", "apiVersion: v2\nname: probe\nversion: 0.1.0\n");
  dir.Write("chart/templates/probe.yaml",
            "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: probe\n"
            "data:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n");
  CommandOptions options;
  options.env = {"HELM_CACHE_HOME=" + dir.Path("cache"), "HELM_CONFIG_HOME=" + dir.Path("config"),
                 "HELM_DATA_HOME=" + dir.Path("data")};
  CommandResult r = RunCommand({KubeBin("helm"), "version", "--template", "{{.Version}}"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, PinnedVersion("helm", "helm.sh/helm/v3"));
  r = RunCommand({KubeBin("helm"), "template", "probe", dir.Path("chart")}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Helm assumes v1.<minor of its client-go>.0; ours is built against the server's minor.
  std::string kube = PinnedVersion("kubernetes", "k8s.io/kubernetes");
  std::string minor = kube.substr(3, kube.find('.', 3) - 3);
  EXPECT_THAT(r.out, HasSubstr("kube: \"v1." + minor + ".0\""));
}

}  // namespace
}  // namespace cmesh::testing
