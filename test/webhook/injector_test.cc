// /inject end to end through ServeWebhook: AdmissionReview JSON in, the patch decoded and applied to
// the input pod with the tests' own RFC 6902 applier, and the resulting pod checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <variant>

#include "cmesh/proxy_init/flags.h"
#include "cmesh/webhook/injector.h"
#include "cmesh/webhook/webhook_http.h"
#include "json_patch_apply.h"

namespace cmesh::webhook {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using nlohmann::json;

std::string DecodeBase64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) continue;  // padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string Review(const json& pod, const std::string& ns, const std::string& operation = "CREATE") {
  return json({{"apiVersion", "admission.k8s.io/v1"},
               {"kind", "AdmissionReview"},
               {"request",
                {{"uid", "uid-1"},
                 {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                 {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                 {"namespace", ns},
                 {"operation", operation},
                 {"object", pod}}}})
      .dump();
}

// What the apiserver would store: the response checked, its patch decoded and applied.
struct Outcome {
  json response;
  bool patched = false;
  json pod;  // the input pod with the patch applied (or unchanged)
  json patch = json::array();
};

class InjectorTest : public ::testing::Test {
 protected:
  InjectorTest() { Reset(InjectorConfig()); }

  void Reset(InjectorConfig config) {
    config.proxy_image = "registry.example/cmesh/proxy:0.1.0";
    config.pilot_address = "cmesh-pilot.istio-system.svc:15010";
    injector_ = std::make_unique<Injector>(std::move(config), [this](const std::string& ns) -> std::optional<Labels> {
      auto it = namespaces_.find(ns);
      if (it == namespaces_.end()) return std::nullopt;
      return it->second;
    });
  }

  Outcome Inject(const json& pod, const std::string& ns = "shop") {
    Outcome out;
    HttpAnswer answer = ServeWebhook(*injector_, "POST", "/inject?timeout=10s", Review(pod, ns));
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(answer.content_type, "application/json");
    const json review = json::parse(answer.body);
    EXPECT_EQ(review["apiVersion"], "admission.k8s.io/v1");
    EXPECT_EQ(review["kind"], "AdmissionReview");
    out.response = review["response"];
    EXPECT_EQ(out.response["uid"], "uid-1");
    // Injection never rejects a pod.
    EXPECT_EQ(out.response["allowed"], true);
    out.pod = pod;
    if (out.response.contains("patch")) {
      EXPECT_EQ(out.response["patchType"], "JSONPatch");
      out.patch = json::parse(DecodeBase64(out.response["patch"].get<std::string>()));
      std::string error;
      EXPECT_TRUE(test_support::ApplyJsonPatch(pod, out.patch, &out.pod, &error)) << error << "\n" << out.patch.dump(2);
      out.patched = true;
    }
    return out;
  }

  static std::vector<std::string> Warnings(const Outcome& o) {
    return o.response.contains("warnings") ? o.response["warnings"].get<std::vector<std::string>>()
                                           : std::vector<std::string>{};
  }

  static const json& Container(const json& pod, const char* list, const std::string& name) {
    static const json kNone;
    for (const auto& c : pod["spec"][list]) {
      if (c["name"] == name) return c;
    }
    ADD_FAILURE() << "no " << list << " entry named " << name;
    return kNone;
  }

  std::map<std::string, Labels> namespaces_ = {
      {"shop", {{"istio-injection", "enabled"}}},
      {"plain", {}},
      {"istio-system", {{"istio-injection", "enabled"}}},
  };
  std::unique_ptr<Injector> injector_;
};

json ReviewsPod() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"generateName": "reviews-v1-7d9f-", "labels": {"app": "reviews", "version": "v1"},
                 "annotations": {"kubernetes.io/description": "reviews"}},
    "spec": {"serviceAccountName": "bookinfo-reviews",
             "containers": [{"name": "reviews", "image": "reviews:1", "ports": [{"containerPort": 9080}]}]}})");
}

TEST_F(InjectorTest, PlainPodGetsInitAndProxyContainers) {
  const Outcome o = Inject(ReviewsPod());
  ASSERT_TRUE(o.patched);
  EXPECT_TRUE(Warnings(o).empty());
  const json& spec = o.pod["spec"];
  ASSERT_EQ(spec["containers"].size(), 2u);
  EXPECT_EQ(spec["containers"][0]["name"], "reviews");  // the app stays first
  EXPECT_EQ(spec["containers"][1]["name"], "cmesh-proxy");
  ASSERT_EQ(spec["initContainers"].size(), 1u);

  const json& init = Container(o.pod, "initContainers", "cmesh-init");
  EXPECT_EQ(init["image"], "registry.example/cmesh/proxy:0.1.0");
  EXPECT_EQ(init["command"], json({"cmesh-init"}));
  EXPECT_EQ(init["args"], json::array());  // no traffic annotations: cmesh-init's defaults
  EXPECT_EQ(init["securityContext"]["capabilities"]["add"], json({"NET_ADMIN", "NET_RAW"}));
  EXPECT_EQ(init["securityContext"]["runAsUser"], 0);
  EXPECT_EQ(init["securityContext"]["runAsNonRoot"], false);

  const json& proxy = Container(o.pod, "containers", "cmesh-proxy");
  EXPECT_EQ(proxy["image"], "registry.example/cmesh/proxy:0.1.0");
  EXPECT_EQ(proxy["securityContext"]["runAsUser"], 1337);
  EXPECT_EQ(proxy["securityContext"]["runAsGroup"], 1337);
  EXPECT_EQ(proxy["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(proxy["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_FALSE(proxy["securityContext"]["capabilities"].contains("add"));
  EXPECT_EQ(proxy["readinessProbe"]["httpGet"], json::parse(R"({"path":"/healthz/ready","port":15021})"));
  EXPECT_EQ(proxy["ports"], json::parse(R"([{"name":"http-envoy-prom","containerPort":15090,"protocol":"TCP"}])"));
  const std::vector<std::string> args = proxy["args"].get<std::vector<std::string>>();
  EXPECT_THAT(args, ElementsAre("--xds-address", "cmesh-pilot.istio-system.svc:15010", "--node-id",
                                "sidecar~$(INSTANCE_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local",
                                "--labels", "app=reviews,version=v1", "--concurrency", "2", "--drain-duration", "5s",
                                "--log-level", "info"));
  // The downward API env the node id refers to; expanding it as the kubelet would gives Istio's id.
  std::map<std::string, std::string> field_of;
  for (const auto& env : proxy["env"]) field_of[env["name"]] = env["valueFrom"]["fieldRef"]["fieldPath"];
  EXPECT_EQ(field_of["POD_NAME"], "metadata.name");
  EXPECT_EQ(field_of["POD_NAMESPACE"], "metadata.namespace");
  EXPECT_EQ(field_of["INSTANCE_IP"], "status.podIP");
  std::string node_id = args[3];
  const std::map<std::string, std::string> runtime = {
      {"INSTANCE_IP", "10.1.2.3"}, {"POD_NAME", "reviews-v1-7d9f-x2"}, {"POD_NAMESPACE", "shop"}};
  for (const auto& [name, value] : runtime) {
    for (std::size_t at; (at = node_id.find("$(" + name + ")")) != std::string::npos;) {
      node_id.replace(at, name.size() + 3, value);
    }
  }
  EXPECT_EQ(node_id, "sidecar~10.1.2.3~reviews-v1-7d9f-x2.shop~shop.svc.cluster.local");
  // preStop: POST /drain_listeners on the admin port, then a pause.
  const std::string pre_stop = proxy["lifecycle"]["preStop"]["exec"]["command"].back();
  EXPECT_THAT(pre_stop, HasSubstr("/dev/tcp/127.0.0.1/15000"));
  EXPECT_THAT(pre_stop, HasSubstr("POST /drain_listeners HTTP/1.1"));
  EXPECT_THAT(pre_stop, HasSubstr("sleep 5"));
  EXPECT_EQ(proxy["resources"]["requests"], json::parse(R"({"cpu":"100m","memory":"128Mi"})"));

  // Volumes: every mount of the proxy names a volume that was added.
  std::vector<std::string> volumes;
  for (const auto& v : spec["volumes"]) volumes.push_back(v["name"]);
  EXPECT_THAT(volumes, ElementsAre("cmesh-proxy-tmp", "cmesh-podinfo"));
  for (const auto& mount : proxy["volumeMounts"]) {
    EXPECT_NE(std::find(volumes.begin(), volumes.end(), mount["name"]), volumes.end()) << mount;
  }

  const json& annotations = o.pod["metadata"]["annotations"];
  EXPECT_EQ(annotations["kubernetes.io/description"], "reviews");  // kept
  EXPECT_EQ(annotations["prometheus.io/scrape"], "true");
  EXPECT_EQ(annotations["prometheus.io/port"], "15090");
  EXPECT_EQ(annotations["prometheus.io/path"], "/stats/prometheus");
  ASSERT_TRUE(annotations.contains("sidecar.istio.io/status"));
  const std::string status = annotations["sidecar.istio.io/status"];
  // Istio's shape and key order.
  EXPECT_EQ(status,
            R"({"initContainers":["cmesh-init"],"containers":["cmesh-proxy"],"volumes":["cmesh-proxy-tmp","cmesh-podinfo"],)"
            R"("imagePullSecrets":null,"revision":"default"})");
}

TEST_F(InjectorTest, TrafficAnnotationsBecomeCmeshInitFlags) {
  json pod = ReviewsPod();
  pod["metadata"]["annotations"] = {
      {"traffic.sidecar.istio.io/includeInboundPorts", "9080, 9443"},
      {"traffic.sidecar.istio.io/excludeInboundPorts", "9091"},
      {"traffic.sidecar.istio.io/includeOutboundPorts", "5432"},
      {"traffic.sidecar.istio.io/excludeOutboundPorts", "3306,6379"},
      {"traffic.sidecar.istio.io/includeOutboundIPRanges", "10.0.0.0/8,fd00::/8"},
      {"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.96.0.1"},
  };
  const Outcome o = Inject(pod);
  ASSERT_TRUE(o.patched);
  const std::vector<std::string> args = Container(o.pod, "initContainers", "cmesh-init")["args"];
  EXPECT_THAT(args, ElementsAre("--inbound-ports", "9080,9443", "--exclude-inbound-ports", "9091", "--outbound-ports",
                                "5432", "--exclude-outbound-ports", "3306,6379", "--include-outbound-ip-ranges",
                                "10.0.0.0/8,fd00::/8", "--exclude-outbound-ip-ranges", "10.96.0.1"));
  // cmesh-init's own parser reads them as meant.
  auto parsed = proxy_init::ParseFlags(args);
  ASSERT_TRUE(std::holds_alternative<proxy_init::Options>(parsed)) << std::get<proxy_init::FlagError>(parsed).message;
  const proxy_init::CaptureConfig& c = std::get<proxy_init::Options>(parsed).capture;
  EXPECT_FALSE(c.inbound_ports.all);
  EXPECT_THAT(c.inbound_ports.ports, ElementsAre(9080, 9443));
  EXPECT_THAT(c.exclude_inbound_ports, ElementsAre(9091));
  EXPECT_THAT(c.include_outbound_ports, ElementsAre(5432));
  EXPECT_THAT(c.exclude_outbound_ports, ElementsAre(3306, 6379));
  EXPECT_FALSE(c.include_all_outbound_ranges);
  ASSERT_EQ(c.include_outbound_ranges.size(), 2u);
  EXPECT_EQ(c.include_outbound_ranges[0].ToString(), "10.0.0.0/8");
  EXPECT_EQ(c.include_outbound_ranges[1].ToString(), "fd00::/8");
  ASSERT_EQ(c.exclude_outbound_ranges.size(), 1u);
  EXPECT_EQ(c.exclude_outbound_ranges[0].ToString(), "10.96.0.1/32");
}

TEST_F(InjectorTest, WildcardAndEmptyCaptureValuesPassThrough) {
  json pod = ReviewsPod();
  pod["metadata"]["annotations"] = {{"traffic.sidecar.istio.io/includeInboundPorts", ""},
                                    {"traffic.sidecar.istio.io/includeOutboundIPRanges", "*"},
                                    {"traffic.sidecar.istio.io/kubevirtInterfaces", "eth1"}};
  const Outcome o = Inject(pod);
  ASSERT_TRUE(o.patched);
  const std::vector<std::string> args = Container(o.pod, "initContainers", "cmesh-init")["args"];
  EXPECT_THAT(args, ElementsAre("--inbound-ports", "", "--include-outbound-ip-ranges", "*"));
  auto parsed = proxy_init::ParseFlags(args);
  ASSERT_TRUE(std::holds_alternative<proxy_init::Options>(parsed));
  EXPECT_FALSE(std::get<proxy_init::Options>(parsed).capture.inbound_ports.all);
  EXPECT_TRUE(std::get<proxy_init::Options>(parsed).capture.inbound_ports.ports.empty());
  EXPECT_TRUE(std::get<proxy_init::Options>(parsed).capture.include_all_outbound_ranges);
  // An annotation cmesh-init has no flag for is reported, not fatal.
  EXPECT_THAT(Warnings(o), ElementsAre(HasSubstr("traffic.sidecar.istio.io/kubevirtInterfaces is not supported")));
}

TEST_F(InjectorTest, BadAnnotationValueAdmitsThePodUnchangedWithAWarning) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"traffic.sidecar.istio.io/includeInboundPorts", "http"},
           {"traffic.sidecar.istio.io/excludeOutboundPorts", "70000"},
           {"traffic.sidecar.istio.io/excludeInboundPorts", "*"},
           {"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/33"},
           {"traffic.sidecar.istio.io/includeOutboundIPRanges", "10.0.0.0/8,*"},
           {"sidecar.istio.io/proxyMemory", "lots"},
       }) {
    json pod = ReviewsPod();
    pod["metadata"]["annotations"][key] = value;
    const Outcome o = Inject(pod);
    EXPECT_FALSE(o.patched) << key;
    EXPECT_EQ(o.pod, pod);
    EXPECT_THAT(Warnings(o), ElementsAre(AllOf(HasSubstr("sidecar not injected"), HasSubstr(key)))) << key;
  }
}

TEST_F(InjectorTest, ResourceAnnotationsOverrideTheDefaults) {
  json pod = ReviewsPod();
  pod["metadata"]["annotations"]["sidecar.istio.io/proxyCPU"] = "250m";
  pod["metadata"]["annotations"]["sidecar.istio.io/proxyMemoryLimit"] = "2Gi";
  const Outcome o = Inject(pod);
  ASSERT_TRUE(o.patched);
  const json& resources = Container(o.pod, "containers", "cmesh-proxy")["resources"];
  EXPECT_EQ(resources, json::parse(R"({"requests":{"cpu":"250m","memory":"128Mi"},"limits":{"cpu":"2000m","memory":"2Gi"}})"));
}

TEST_F(InjectorTest, ExistingInitContainersVolumesAndSecretsAreKept) {
  InjectorConfig config;
  config.image_pull_secrets = {"regcred"};
  Reset(config);
  json pod = ReviewsPod();
  pod["spec"]["initContainers"] = json::parse(R"([{"name":"migrate","image":"m"}])");
  pod["spec"]["volumes"] = json::parse(R"([{"name":"data","emptyDir":{}}])");
  pod["spec"]["imagePullSecrets"] = json::parse(R"([{"name":"own"}])");
  const Outcome o = Inject(pod);
  ASSERT_TRUE(o.patched);
  // cmesh-init runs first, so the app's init containers already go through the capture (as in Istio).
  EXPECT_EQ(o.pod["spec"]["initContainers"][0]["name"], "cmesh-init");
  EXPECT_EQ(o.pod["spec"]["initContainers"][1]["name"], "migrate");
  EXPECT_EQ(o.pod["spec"]["volumes"][0]["name"], "data");
  EXPECT_EQ(o.pod["spec"]["volumes"].size(), 3u);
  EXPECT_EQ(o.pod["spec"]["imagePullSecrets"], json::parse(R"([{"name":"own"},{"name":"regcred"}])"));
  const json status = json::parse(o.pod["metadata"]["annotations"]["sidecar.istio.io/status"].get<std::string>());
  EXPECT_EQ(status["imagePullSecrets"], json({"regcred"}));
}

TEST_F(InjectorTest, PodWithoutAnnotationsOrLabels) {
  json pod = json::parse(R"({"metadata":{"name":"bare"},"spec":{"containers":[{"name":"app","image":"a"}]}})");
  const Outcome o = Inject(pod);
  ASSERT_TRUE(o.patched);
  // One "add" creates the annotations object (a member add would fail: there is no parent).
  bool whole = false;
  for (const auto& op : o.patch) whole = whole || (op["path"] == "/metadata/annotations" && op["value"].is_object());
  EXPECT_TRUE(whole) << o.patch.dump();
  EXPECT_TRUE(o.pod["metadata"]["annotations"].contains("sidecar.istio.io/status"));
  const std::vector<std::string> args = Container(o.pod, "containers", "cmesh-proxy")["args"];
  EXPECT_EQ(args[5], "");  // --labels with no labels
}

TEST_F(InjectorTest, AnnotationKeysAreEscapedInPaths) {
  InjectorConfig config;
  config.template_yaml = R"(
containers:
- name: cmesh-proxy
  image: "{{ .ProxyImage }}"
annotations:
  example.com/a~b: "x"
)";
  Reset(config);
  json pod = ReviewsPod();  // has annotations: members are added one by one
  const Outcome o = Inject(pod);
  ASSERT_TRUE(o.patched);
  std::vector<std::string> paths;
  for (const auto& op : o.patch) paths.push_back(op["path"]);
  EXPECT_THAT(paths, ElementsAre("/spec/containers/-", "/metadata/annotations/example.com~1a~0b",
                                 "/metadata/annotations/sidecar.istio.io~1status"));
  EXPECT_EQ(o.pod["metadata"]["annotations"]["example.com/a~b"], "x");
  EXPECT_EQ(o.pod["metadata"]["annotations"]["sidecar.istio.io/status"],
            R"({"initContainers":[],"containers":["cmesh-proxy"],"volumes":[],"imagePullSecrets":null,"revision":"default"})");
}

TEST_F(InjectorTest, AppPrometheusAnnotationsAreLeftAlone) {
  json pod = ReviewsPod();
  pod["metadata"]["annotations"]["prometheus.io/port"] = "8080";
  const Outcome o = Inject(pod);
  ASSERT_TRUE(o.patched);
  const json& annotations = o.pod["metadata"]["annotations"];
  EXPECT_EQ(annotations["prometheus.io/port"], "8080");
  EXPECT_FALSE(annotations.contains("prometheus.io/scrape"));
  EXPECT_FALSE(annotations.contains("prometheus.io/path"));
}

TEST_F(InjectorTest, OptOutByLabelOrAnnotationLabelWins) {
  json by_label = ReviewsPod();
  by_label["metadata"]["labels"]["sidecar.istio.io/inject"] = "false";
  EXPECT_FALSE(Inject(by_label).patched);
  json by_annotation = ReviewsPod();
  by_annotation["metadata"]["annotations"]["sidecar.istio.io/inject"] = "false";
  EXPECT_FALSE(Inject(by_annotation).patched);
  json label_wins = ReviewsPod();
  label_wins["metadata"]["labels"]["sidecar.istio.io/inject"] = "true";
  label_wins["metadata"]["annotations"]["sidecar.istio.io/inject"] = "false";
  EXPECT_TRUE(Inject(label_wins, "plain").patched);
  label_wins["metadata"]["labels"]["sidecar.istio.io/inject"] = "false";
  label_wins["metadata"]["annotations"]["sidecar.istio.io/inject"] = "true";
  EXPECT_FALSE(Inject(label_wins).patched);
}

TEST_F(InjectorTest, NamespaceNotLabelledHostNetworkAndExcludedNamespaceAreSkipped) {
  const Outcome plain = Inject(ReviewsPod(), "plain");
  EXPECT_FALSE(plain.patched);
  EXPECT_TRUE(Warnings(plain).empty());
  json host = ReviewsPod();
  host["spec"]["hostNetwork"] = true;
  EXPECT_FALSE(Inject(host).patched);
  EXPECT_FALSE(Inject(ReviewsPod(), "istio-system").patched);
  // A namespace the cache does not know: not injected, and said so.
  const Outcome unknown = Inject(ReviewsPod(), "new-namespace");
  EXPECT_FALSE(unknown.patched);
  EXPECT_THAT(Warnings(unknown), ElementsAre(HasSubstr("namespace new-namespace is not known")));
}

TEST_F(InjectorTest, InjectingAnInjectedPodIsANoOp) {
  const Outcome first = Inject(ReviewsPod());
  ASSERT_TRUE(first.patched);
  const Outcome second = Inject(first.pod);
  EXPECT_FALSE(second.patched);
  EXPECT_TRUE(Warnings(second).empty());
  // A proxy container added by hand, without the status annotation, counts too.
  json by_hand = ReviewsPod();
  by_hand["spec"]["containers"].push_back({{"name", "cmesh-proxy"}, {"image", "x"}});
  EXPECT_FALSE(Inject(by_hand).patched);
}

TEST_F(InjectorTest, NameClashAdmitsThePodUnchanged) {
  json pod = ReviewsPod();
  pod["spec"]["initContainers"] = json::parse(R"([{"name":"cmesh-init","image":"mine"}])");
  const Outcome o = Inject(pod);
  EXPECT_FALSE(o.patched);
  EXPECT_THAT(Warnings(o), ElementsAre(HasSubstr("already has a container named cmesh-init")));
}

TEST_F(InjectorTest, BrokenTemplateAdmitsPodsUnchanged) {
  InjectorConfig config;
  config.template_yaml = "containers: [\n";
  Reset(config);
  EXPECT_FALSE(injector_->template_error().empty());
  Outcome o = Inject(ReviewsPod());
  EXPECT_FALSE(o.patched);
  EXPECT_THAT(Warnings(o), ElementsAre(HasSubstr("injection template")));

  config.template_yaml = "containers:\n- name: cmesh-proxy\n  image: \"{{ .NoSuchValue }}\"\n";
  Reset(config);
  EXPECT_TRUE(injector_->template_error().empty());
  o = Inject(ReviewsPod());
  EXPECT_FALSE(o.patched);
  EXPECT_THAT(Warnings(o), ElementsAre(HasSubstr("unknown template value {{ .NoSuchValue }}")));

  config.template_yaml = "sidecars: []\n";
  Reset(config);
  o = Inject(ReviewsPod());
  EXPECT_FALSE(o.patched);
  EXPECT_THAT(Warnings(o), ElementsAre(HasSubstr("unknown top-level key \"sidecars\"")));
}

TEST_F(InjectorTest, PodWithoutContainersIsAdmittedWithAWarning) {
  const Outcome o = Inject(json::parse(R"({"metadata":{"name":"x"},"spec":{}})"));
  EXPECT_FALSE(o.patched);
  EXPECT_THAT(Warnings(o), ElementsAre(HasSubstr("no spec.containers")));
}

TEST_F(InjectorTest, OnlyPodCreatesAreConsidered) {
  HttpAnswer update = ServeWebhook(*injector_, "POST", "/inject", Review(ReviewsPod(), "shop", "UPDATE"));
  ASSERT_EQ(update.status, 200);
  EXPECT_FALSE(json::parse(update.body)["response"].contains("patch"));
  EXPECT_EQ(json::parse(update.body)["response"]["allowed"], true);
}

TEST_F(InjectorTest, MalformedRequestsGetAClearError) {
  HttpAnswer bad = ServeWebhook(*injector_, "POST", "/inject", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("bad AdmissionReview: the body is not JSON"));
  bad = ServeWebhook(*injector_, "POST", "/inject", R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("request is missing"));
  bad = ServeWebhook(*injector_, "POST", "/inject",
                     R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u",
                         "operation":"CREATE","kind":{"kind":"Pod"},"object":{"metadata":7,"spec":[]}}})");
  EXPECT_EQ(bad.status, 200);  // a well-formed review of a strange pod: admitted, with a warning
  EXPECT_EQ(json::parse(bad.body)["response"]["allowed"], true);
  EXPECT_THAT(json::parse(bad.body)["response"]["warnings"][0].get<std::string>(), HasSubstr("no metadata"));
  EXPECT_EQ(ServeWebhook(*injector_, "GET", "/inject", "").status, 405);
  EXPECT_EQ(ServeWebhook(*injector_, "POST", "/mutate", Review(ReviewsPod(), "shop")).status, 404);
}

}  // namespace
}  // namespace cmesh::webhook
