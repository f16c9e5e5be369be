// charts/base and charts/cmesh as helm sees them (issue 7 §2, §3): lint, the rendered objects
// checked against what cmesh-pilot and the apiserver need, and manifests/cmesh.yaml against a fresh
// rendering. helm comes from the kube fixture (scripts/kube-up builds it), hence cmesh_kube_test;
// no cluster is used here (test/install/install_cluster_test.cc installs for real).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "chart_render.h"
#include "cmesh/webhook/injector_config_file.h"
#include "kube_env.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Strings(const YAML::Node& list) {
  std::vector<std::string> out;
  for (const YAML::Node& n : list) out.push_back(n.as<std::string>());
  return out;
}

#define RENDER(var, release, chart, ...)              \
  const Rendered var = HelmTemplate(release, chart, ##__VA_ARGS__); \
  ASSERT_EQ(var.error, "")

TEST(ChartsTest, HelmLintIsCleanForBothCharts) {
  CMESH_REQUIRE_KUBE();  // helm is the fixture's
  for (const char* chart : {"base", "cmesh"}) {
    CommandResult r = RunCommand({KubeBin("helm"), "lint", "--strict", SourceDir() + "/charts/" + chart});
    EXPECT_EQ(r.exit_code, 0) << chart << ":\n" << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("1 chart(s) linted, 0 chart(s) failed")) << chart;
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("[WARNING]"))) << r.out;
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("[ERROR]"))) << r.out;
  }
}

TEST(ChartsTest, BaseChartCarriesTheCrdsKeptOnUninstall) {
  CMESH_REQUIRE_KUBE();
  RENDER(base, "cmesh-base", "base");
  for (const char* crd : {"virtualservices.networking.istio.io", "destinationrules.networking.istio.io"}) {
    const YAML::Node o = base.Find("CustomResourceDefinition", crd);
    ASSERT_TRUE(o) << crd;
    EXPECT_EQ(o["metadata"]["annotations"]["helm.sh/resource-policy"].as<std::string>(""), "keep") << crd;
    std::vector<std::string> versions;
    for (const YAML::Node& v : o["spec"]["versions"]) versions.push_back(v["name"].as<std::string>());
    EXPECT_THAT(versions, ::testing::UnorderedElementsAre("v1alpha3", "v1beta1", "v1")) << crd;
  }
  // Cluster-wide parts only, apart from the leader Lease's Role (see charts/README.md).
  std::set<std::string> kinds;
  for (const YAML::Node& o : base.objects) kinds.insert(o["kind"].as<std::string>());
  EXPECT_EQ(kinds, (std::set<std::string>{"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role",
                                          "RoleBinding"}));
}

TEST(ChartsTest, ServiceExposesThePilotsPortsWithTheWebhookOn443) {
  CMESH_REQUIRE_KUBE();
  RENDER(cmesh, "cmesh", "cmesh");
  const YAML::Node service = cmesh.Find("Service", "cmesh-pilot");
  ASSERT_TRUE(service);
  EXPECT_EQ(service["metadata"]["namespace"].as<std::string>(""), "istio-system");
  std::map<std::string, std::pair<int, int>> ports;
  for (const YAML::Node& p : service["spec"]["ports"]) {
    ports[p["name"].as<std::string>()] = {p["port"].as<int>(), p["targetPort"].as<int>()};
  }
  const std::map<std::string, std::pair<int, int>> expected = {{"grpc-xds", {15010, 15010}},
                                                                {"http-monitoring", {15014, 15014}},
                                                                {"https-webhook", {443, 15017}},
                                                                {"http-debug", {8080, 8080}}};
  EXPECT_EQ(ports, expected);
  // It selects the Deployment's pods.
  const YAML::Node deployment = cmesh.Find("Deployment", "cmesh-pilot");
  ASSERT_TRUE(deployment);
  std::map<std::string, std::string> pod_labels;
  for (const auto& kv : deployment["spec"]["template"]["metadata"]["labels"]) {
    pod_labels[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  YAML::Node selector;
  selector["matchLabels"] = service["spec"]["selector"];
  EXPECT_TRUE(SelectorMatches(selector, pod_labels));
  EXPECT_TRUE(SelectorMatches(deployment["spec"]["selector"], pod_labels));
  const YAML::Node pdb = cmesh.Find("PodDisruptionBudget", "cmesh-pilot");
  ASSERT_TRUE(pdb);
  EXPECT_TRUE(SelectorMatches(pdb["spec"]["selector"], pod_labels));
  EXPECT_EQ(pdb["spec"]["minAvailable"].as<int>(), 1);
}

TEST(ChartsTest, DeploymentRunsThePilotWithFlagsItAcceptsAndTheInjectionConfigMounted) {
  CMESH_REQUIRE_KUBE();
  RENDER(cmesh, "cmesh", "cmesh", {"--set", "pilot.logLevel=debug", "--set", "pilot.debounceMax=3s"});
  const YAML::Node deployment = cmesh.Find("Deployment", "cmesh-pilot");
  ASSERT_TRUE(deployment);
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  EXPECT_EQ(pod["serviceAccountName"].as<std::string>(""), "cmesh-pilot");
  ASSERT_TRUE(cmesh.Find("ServiceAccount", "cmesh-pilot"));
  ASSERT_EQ(pod["containers"].size(), 1u);
  const YAML::Node c = pod["containers"][0];
  EXPECT_EQ(c["image"].as<std::string>(), "cmesh/pilot:0.1.0");  // hub/pilot:appVersion
  const std::vector<std::string> args = Strings(c["args"]);
  EXPECT_THAT(args, ::testing::Contains("--log-level=debug"));
  EXPECT_THAT(args, ::testing::Contains("--debounce-max=3s"));
  EXPECT_THAT(args, ::testing::Contains("--in-cluster"));

  // cmesh-pilot parses every flag before it looks at --help: exit 0 only if all are known and valid.
  std::vector<std::string> argv = {BinDir() + "/cmesh-pilot"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--help");
  CommandResult help = RunCommand(argv);
  EXPECT_EQ(help.exit_code, 0) << help.err;
  // And a wrong one makes it fail, so the check above means something.
  argv.insert(argv.end() - 1, "--log-level=loud");
  EXPECT_EQ(RunCommand(argv).exit_code, 2);

  // Probes on /ready 8080; POD_NAME and POD_NAMESPACE from the downward API.
  for (const char* probe : {"readinessProbe", "livenessProbe"}) {
    EXPECT_EQ(c[probe]["httpGet"]["path"].as<std::string>(""), "/ready") << probe;
    EXPECT_EQ(c[probe]["httpGet"]["port"].as<int>(0), 8080) << probe;
  }
  std::map<std::string, std::string> env;
  for (const YAML::Node& e : c["env"]) env[e["name"].as<std::string>()] = e["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>("");
  EXPECT_EQ(env["POD_NAME"], "metadata.name");
  EXPECT_EQ(env["POD_NAMESPACE"], "metadata.namespace");
  EXPECT_TRUE(c["resources"]["requests"]["cpu"]);
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"].as<bool>(false), true);
  EXPECT_EQ(pod["securityContext"]["runAsUser"].as<int>(0), 1337);  // the Dockerfile's USER

  // --injection-config names a key of the injection ConfigMap, through a mount of it.
  std::string config_path;
  for (const std::string& a : args) {
    if (a.rfind("--injection-config=", 0) == 0) config_path = a.substr(19);
  }
  ASSERT_NE(config_path, "");
  const std::filesystem::path p(config_path);
  std::string volume;
  for (const YAML::Node& m : c["volumeMounts"]) {
    if (m["mountPath"].as<std::string>() == p.parent_path().string()) volume = m["name"].as<std::string>();
  }
  ASSERT_NE(volume, "") << "nothing mounted at " << p.parent_path();
  std::string config_map;
  for (const YAML::Node& v : pod["volumes"]) {
    if (v["name"].as<std::string>() == volume) config_map = v["configMap"]["name"].as<std::string>("");
  }
  ASSERT_NE(config_map, "");
  const YAML::Node cm = cmesh.Find("ConfigMap", config_map);
  ASSERT_TRUE(cm) << config_map;
  EXPECT_TRUE(cm["data"][p.filename().string()]) << "no key " << p.filename() << " in ConfigMap " << config_map;
}

// The injection ConfigMap goes through the same parser as cmesh-pilot's --injection-config.
webhook::InjectorConfig ParseChartInjectionConfig(const Rendered& cmesh, std::string* error) {
  const YAML::Node cm = cmesh.Find("ConfigMap", "cmesh-sidecar-injector");
  if (!cm) {
    *error = "no ConfigMap cmesh-sidecar-injector";
    return {};
  }
  webhook::InjectorConfig defaults;
  defaults.template_yaml = "";  // so that an absent template would show
  auto parsed = webhook::ParseInjectorConfig(cm["data"]["config.yaml"].as<std::string>(""), "config.yaml", defaults, error);
  return parsed ? *parsed : webhook::InjectorConfig{};
}

TEST(ChartsTest, InjectionConfigMapIsOneThePilotAcceptsWithTheChartsValues) {
  CMESH_REQUIRE_KUBE();
  {
    RENDER(cmesh, "cmesh", "cmesh");
    std::string error;
    webhook::InjectorConfig config = ParseChartInjectionConfig(cmesh, &error);
    ASSERT_EQ(error, "");
    EXPECT_EQ(config.template_yaml, ReadFile(SourceDir() + "/webhook/injection-template.yaml"));
    EXPECT_EQ(config.proxy_image, "cmesh/proxy:0.1.0");  // the Dockerfile's proxy target, tagged appVersion
    EXPECT_EQ(config.pilot_address, "cmesh-pilot.istio-system.svc:15010");  // the Service's grpc-xds
    EXPECT_EQ(config.concurrency, 2);
    EXPECT_EQ(config.policy.revision, "default");
    // The control plane's namespace is never injected, then Kubernetes' own.
    EXPECT_THAT(config.policy.excluded_namespaces,
                ElementsAre("istio-system", "kube-system", "kube-public", "kube-node-lease"));
    EXPECT_EQ(config.proxy_resources["limits"]["memory"], "1Gi");
  }
  {
    RENDER(cmesh, "cmesh", "cmesh",
           {"--set", "hub=registry.example/mesh", "--set", "tag=1.2.3", "--set", "proxy.concurrency=4", "--set",
            "proxy.logLevel=debug", "--set", "imagePullSecrets={regcred}", "--set",
            "sidecarInjector.excludedNamespaces={istio-system,legacy}"});
    std::string error;
    webhook::InjectorConfig config = ParseChartInjectionConfig(cmesh, &error);
    ASSERT_EQ(error, "");
    EXPECT_EQ(config.proxy_image, "registry.example/mesh/proxy:1.2.3");
    EXPECT_EQ(config.concurrency, 4);
    EXPECT_EQ(config.log_level, "debug");
    EXPECT_THAT(config.image_pull_secrets, ElementsAre("regcred"));
    // istio-system listed by the user is not repeated.
    EXPECT_THAT(config.policy.excluded_namespaces, ElementsAre("istio-system", "legacy"));
    EXPECT_EQ(cmesh.Find("Deployment", "cmesh-pilot")["spec"]["template"]["spec"]["containers"][0]["image"].as<std::string>(),
              "registry.example/mesh/pilot:1.2.3");
  }
}

struct InjectionCase {
  const char* what;
  std::string ns;
  std::map<std::string, std::string> ns_labels;
  std::map<std::string, std::string> pod_labels;
  int calls;  // how many of the configuration's webhooks the apiserver calls for this pod
};

TEST(ChartsTest, InjectionWebhookIsCalledOnceForPodsThePolicyInjectsAndNeverForOthers) {
  CMESH_REQUIRE_KUBE();
  RENDER(cmesh, "cmesh", "cmesh");
  const YAML::Node config = cmesh.Find("MutatingWebhookConfiguration", "cmesh-sidecar-injector");
  ASSERT_TRUE(config);
  // Expectations from the injection rules (webhook/README.md, istio-conventions.md), which the
  // selectors pre-filter: opted-out pods and excluded namespaces are never sent (the pilot would
  // refuse them anyway), and a pod is sent at most once, whatever the mix of labels. The apiserver
  // sets kubernetes.io/metadata.name on every namespace.
  const std::string inject = "sidecar.istio.io/inject";
  const std::vector<InjectionCase> cases = {
      {"labelled namespace", "default", {{"istio-injection", "enabled"}}, {}, 1},
      {"labelled namespace, pod opts out", "default", {{"istio-injection", "enabled"}}, {{inject, "false"}}, 0},
      {"labelled namespace, pod opts in too", "default", {{"istio-injection", "enabled"}}, {{inject, "true"}}, 1},
      {"labelled namespace, pod has istio.io/rev", "default", {{"istio-injection", "enabled"}},
       {{"istio.io/rev", "default"}}, 1},
      {"namespace with istio.io/rev", "apps", {{"istio.io/rev", "default"}}, {}, 1},
      {"namespace with istio.io/rev, pod opts out", "apps", {{"istio.io/rev", "default"}}, {{inject, "false"}}, 0},
      {"namespace with another revision", "apps", {{"istio.io/rev", "canary"}}, {}, 0},
      {"unlabelled namespace", "apps", {}, {}, 0},
      {"unlabelled namespace, pod opts in", "apps", {}, {{inject, "true"}}, 1},
      {"unlabelled namespace, pod with istio.io/rev", "apps", {}, {{"istio.io/rev", "default"}}, 1},
      {"unlabelled namespace, pod with istio.io/rev and opt-in", "apps", {}, {{"istio.io/rev", "default"}, {inject, "true"}}, 1},
      {"disabled namespace, pod opts in", "apps", {{"istio-injection", "disabled"}}, {{inject, "true"}}, 0},
      {"the control plane's namespace, labelled", "istio-system", {{"istio-injection", "enabled"}}, {}, 0},
      {"kube-system, pod opts in", "kube-system", {}, {{inject, "true"}}, 0},
  };
  for (const InjectionCase& c : cases) {
    std::map<std::string, std::string> ns_labels = c.ns_labels;
    ns_labels["kubernetes.io/metadata.name"] = c.ns;
    int calls = 0;
    for (const YAML::Node& w : config["webhooks"]) {
      if (SelectorMatches(w["namespaceSelector"], ns_labels) && SelectorMatches(w["objectSelector"], c.pod_labels)) ++calls;
    }
    EXPECT_EQ(calls, c.calls) << c.what;
  }
  // The control plane's own pods opt out by label as well.
  const YAML::Node pod_labels = cmesh.Find("Deployment", "cmesh-pilot")["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(pod_labels[inject].as<std::string>(""), "false");
}

TEST(ChartsTest, WebhooksCallThePilotServiceOrTheConfiguredUrl) {
  CMESH_REQUIRE_KUBE();
  auto check = [](const Rendered& cmesh, const std::string& url_base) {
    const YAML::Node mutating = cmesh.Find("MutatingWebhookConfiguration", "cmesh-sidecar-injector");
    const YAML::Node validating = cmesh.Find("ValidatingWebhookConfiguration", "cmesh-validator");
    ASSERT_TRUE(mutating);
    ASSERT_TRUE(validating);
    ASSERT_EQ(mutating["webhooks"].size(), 4u);
    ASSERT_EQ(validating["webhooks"].size(), 1u);
    std::set<std::string> names;
    for (const auto& [config, path] : {std::pair{mutating, "/inject"}, std::pair{validating, "/validate"}}) {
      for (const YAML::Node& w : config["webhooks"]) {
        names.insert(w["name"].as<std::string>());
        const YAML::Node cc = w["clientConfig"];
        if (url_base.empty()) {
          EXPECT_FALSE(cc["url"]);
          EXPECT_EQ(cc["service"]["name"].as<std::string>(""), "cmesh-pilot");
          EXPECT_EQ(cc["service"]["namespace"].as<std::string>(""), "istio-system");
          EXPECT_EQ(cc["service"]["port"].as<int>(0), 443);
          EXPECT_EQ(cc["service"]["path"].as<std::string>(""), path);
        } else {
          EXPECT_FALSE(cc["service"]);
          EXPECT_EQ(cc["url"].as<std::string>(""), url_base + path);
        }
        // cmesh-pilot patches it; a rendered empty one would be reset by every helm upgrade.
        EXPECT_FALSE(cc["caBundle"]);
        EXPECT_EQ(w["sideEffects"].as<std::string>(""), "None");
        EXPECT_THAT(Strings(w["admissionReviewVersions"]), ElementsAre("v1"));
        EXPECT_EQ(w["failurePolicy"].as<std::string>(""), "Fail");
        EXPECT_EQ(w["timeoutSeconds"].as<int>(0), 10);
      }
    }
    EXPECT_EQ(names.size(), 5u) << "webhook names must be unique";
    for (const YAML::Node& w : mutating["webhooks"]) {
      ASSERT_EQ(w["rules"].size(), 1u);
      EXPECT_THAT(Strings(w["rules"][0]["operations"]), ElementsAre("CREATE"));
      EXPECT_THAT(Strings(w["rules"][0]["apiGroups"]), ElementsAre(""));
      EXPECT_THAT(Strings(w["rules"][0]["resources"]), ElementsAre("pods"));
      EXPECT_EQ(w["reinvocationPolicy"].as<std::string>(""), "Never");
    }
    const YAML::Node rule = validating["webhooks"][0]["rules"][0];
    EXPECT_THAT(Strings(rule["operations"]), ElementsAre("CREATE", "UPDATE"));
    EXPECT_THAT(Strings(rule["apiGroups"]), ElementsAre("networking.istio.io"));
    EXPECT_THAT(Strings(rule["apiVersions"]), ElementsAre("v1alpha3", "v1beta1", "v1"));
    EXPECT_THAT(Strings(rule["resources"]), ElementsAre("virtualservices", "destinationrules"));
  };
  {
    RENDER(cmesh, "cmesh", "cmesh");
    check(cmesh, "");
  }
  {
    RENDER(cmesh, "cmesh", "cmesh", {"--set", "webhook.url=https://127.0.0.1:25017/"});
    check(cmesh, "https://127.0.0.1:25017");
  }
}

TEST(ChartsTest, BaseRbacLetsThePilotPatchExactlyTheCmeshChartsWebhookConfigurations) {
  CMESH_REQUIRE_KUBE();
  RENDER(base, "cmesh-base", "base");
  RENDER(cmesh, "cmesh", "cmesh");
  const YAML::Node role = base.Find("ClusterRole", "cmesh-pilot");
  ASSERT_TRUE(role);
  std::map<std::string, std::vector<std::string>> names;  // resource → resourceNames with get+patch
  for (const YAML::Node& rule : role["rules"]) {
    if (Strings(rule["apiGroups"]) != std::vector<std::string>{"admissionregistration.k8s.io"}) continue;
    EXPECT_THAT(Strings(rule["verbs"]), ElementsAre("get", "patch"));
    ASSERT_TRUE(rule["resourceNames"]) << "webhook configurations must be granted by name";
    for (const std::string& r : Strings(rule["resources"])) names[r] = Strings(rule["resourceNames"]);
  }
  const std::string mutating = cmesh.All("MutatingWebhookConfiguration").at(0)["metadata"]["name"].as<std::string>();
  const std::string validating = cmesh.All("ValidatingWebhookConfiguration").at(0)["metadata"]["name"].as<std::string>();
  EXPECT_THAT(names["mutatingwebhookconfigurations"], ElementsAre(mutating));
  EXPECT_THAT(names["validatingwebhookconfigurations"], ElementsAre(validating));
  // And the pilot patches the same names (its flags).
  const std::vector<std::string> args =
      Strings(cmesh.Find("Deployment", "cmesh-pilot")["spec"]["template"]["spec"]["containers"][0]["args"]);
  EXPECT_THAT(args, ::testing::Contains("--mutating-webhook-name=" + mutating));
  EXPECT_THAT(args, ::testing::Contains("--validating-webhook-name=" + validating));
  // Both bindings name the ServiceAccount the cmesh chart creates, in the release namespace.
  for (const char* kind : {"ClusterRoleBinding", "RoleBinding"}) {
    const YAML::Node binding = base.Find(kind, "cmesh-pilot");
    ASSERT_TRUE(binding) << kind;
    EXPECT_EQ(binding["subjects"][0]["kind"].as<std::string>(""), "ServiceAccount");
    EXPECT_EQ(binding["subjects"][0]["name"].as<std::string>(""), "cmesh-pilot");
    EXPECT_EQ(binding["subjects"][0]["namespace"].as<std::string>(""), "istio-system");
  }
}

TEST(ChartsTest, HorizontalPodAutoscalerIsOptional) {
  CMESH_REQUIRE_KUBE();
  {
    RENDER(cmesh, "cmesh", "cmesh");
    EXPECT_TRUE(cmesh.All("HorizontalPodAutoscaler").empty());
    EXPECT_EQ(cmesh.Find("Deployment", "cmesh-pilot")["spec"]["replicas"].as<int>(0), 1);
  }
  {
    RENDER(cmesh, "cmesh", "cmesh", {"--set", "autoscaling.enabled=true", "--set", "autoscaling.maxReplicas=7"});
    const YAML::Node hpa = cmesh.Find("HorizontalPodAutoscaler", "cmesh-pilot");
    ASSERT_TRUE(hpa);
    EXPECT_EQ(hpa["spec"]["scaleTargetRef"]["name"].as<std::string>(""), "cmesh-pilot");
    EXPECT_EQ(hpa["spec"]["maxReplicas"].as<int>(0), 7);
    // The HPA owns the count: a replicas field would fight it at every helm upgrade.
    EXPECT_FALSE(cmesh.Find("Deployment", "cmesh-pilot")["spec"]["replicas"]);
  }
}

TEST(ChartsTest, ManifestsAreTheChartsDefaultRendering) {
  CMESH_REQUIRE_KUBE();
  TempDir dir;
  CommandOptions options;
  options.env = {"HELM=" + KubeBin("helm")};
  CommandResult r = RunCommand({SourceDir() + "/scripts/gen-manifests", "--output", dir.Path("cmesh.yaml")}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string fresh = ReadFile(dir.Path("cmesh.yaml"));
  const std::string checked_in = ReadFile(SourceDir() + "/manifests/cmesh.yaml");
  if (fresh != checked_in) {
    std::istringstream a(checked_in), b(fresh);
    std::string la, lb;
    int line = 0;
    while (true) {
      ++line;
      const bool more_a = static_cast<bool>(std::getline(a, la));
      const bool more_b = static_cast<bool>(std::getline(b, lb));
      if (!more_a && !more_b) break;
      if (!more_a || !more_b || la != lb) {
        ADD_FAILURE() << "manifests/cmesh.yaml differs from the charts at line " << line << ":\n  checked in: "
                      << (more_a ? la : "<end>") << "\n  rendered:   " << (more_b ? lb : "<end>")
                      << "\nrun scripts/gen-manifests";
        break;
      }
    }
  }
  // It is the two charts with defaults, after the Namespace.
  EXPECT_THAT(fresh, HasSubstr("kind: Namespace\nmetadata:\n  name: istio-system\n"));
  EXPECT_THAT(fresh, HasSubstr("# Source: cmesh-base/templates/crds.yaml"));
  EXPECT_THAT(fresh, HasSubstr("# Source: cmesh/templates/deployment.yaml"));
}

}  // namespace
}  // namespace cmesh::testing
