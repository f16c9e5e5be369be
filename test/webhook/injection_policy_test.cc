// Which pods get the sidecar.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/webhook/injection_policy.h"

namespace cmesh::webhook {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

json Pod(json labels = json::object(), json annotations = json::object(), bool host_network = false) {
  json pod = {{"metadata", {{"name", "p"}, {"labels", labels}, {"annotations", annotations}}},
              {"spec", {{"containers", json::array({{{"name", "app"}}})}}}};
  if (host_network) pod["spec"]["hostNetwork"] = true;
  return pod;
}

const Labels kEnabled = {{"istio-injection", "enabled"}};
const PolicyOptions kOptions;

TEST(InjectionPolicyTest, NamespaceLabelSelects) {
  EXPECT_TRUE(DecideInjection(Pod(), "shop", kEnabled, kOptions).inject);
  EXPECT_FALSE(DecideInjection(Pod(), "shop", {}, kOptions).inject);
  EXPECT_FALSE(DecideInjection(Pod(), "shop", {{"istio-injection", "disabled"}}, kOptions).inject);
  EXPECT_FALSE(DecideInjection(Pod(), "shop", {{"istio-injection", "yes"}}, kOptions).inject);
  EXPECT_THAT(DecideInjection(Pod(), "shop", {}, kOptions).reason, HasSubstr("not labelled"));
}

TEST(InjectionPolicyTest, RevisionLabelSelectsOnlyOurRevision) {
  EXPECT_TRUE(DecideInjection(Pod(), "shop", {{"istio.io/rev", "default"}}, kOptions).inject);
  EXPECT_FALSE(DecideInjection(Pod(), "shop", {{"istio.io/rev", "canary"}}, kOptions).inject);
  PolicyOptions canary;
  canary.revision = "canary";
  EXPECT_TRUE(DecideInjection(Pod(), "shop", {{"istio.io/rev", "canary"}}, canary).inject);
  // istio-injection wins over istio.io/rev on the namespace (Istio's documented precedence).
  EXPECT_FALSE(
      DecideInjection(Pod(), "shop", {{"istio-injection", "disabled"}, {"istio.io/rev", "default"}}, kOptions).inject);
  // The pod's own istio.io/rev label.
  EXPECT_TRUE(DecideInjection(Pod({{"istio.io/rev", "default"}}), "shop", {}, kOptions).inject);
}

TEST(InjectionPolicyTest, PodLabelOrAnnotationOptsInAndOutLabelWins) {
  const json opt_out_label = Pod({{"sidecar.istio.io/inject", "false"}});
  const json opt_out_annotation = Pod({}, {{"sidecar.istio.io/inject", "false"}});
  EXPECT_FALSE(DecideInjection(opt_out_label, "shop", kEnabled, kOptions).inject);
  EXPECT_FALSE(DecideInjection(opt_out_annotation, "shop", kEnabled, kOptions).inject);
  // Opt in, in a namespace without the label.
  EXPECT_TRUE(DecideInjection(Pod({{"sidecar.istio.io/inject", "true"}}), "shop", {}, kOptions).inject);
  EXPECT_TRUE(DecideInjection(Pod({}, {{"sidecar.istio.io/inject", "true"}}), "shop", {}, kOptions).inject);
  // Both set, disagreeing: the label decides either way.
  const json label_false = Pod({{"sidecar.istio.io/inject", "false"}}, {{"sidecar.istio.io/inject", "true"}});
  const json label_true = Pod({{"sidecar.istio.io/inject", "true"}}, {{"sidecar.istio.io/inject", "false"}});
  EXPECT_FALSE(DecideInjection(label_false, "shop", kEnabled, kOptions).inject);
  EXPECT_TRUE(DecideInjection(label_true, "shop", {}, kOptions).inject);
  EXPECT_THAT(DecideInjection(label_true, "shop", {}, kOptions).reason, HasSubstr("label"));
  // Go's ParseBool spellings.
  EXPECT_FALSE(DecideInjection(Pod({{"sidecar.istio.io/inject", "F"}}), "shop", kEnabled, kOptions).inject);
  EXPECT_TRUE(DecideInjection(Pod({{"sidecar.istio.io/inject", "1"}}), "shop", {}, kOptions).inject);
}

TEST(InjectionPolicyTest, UnreadableValueIsIgnoredWithAWarning) {
  PolicyDecision d = DecideInjection(Pod({}, {{"sidecar.istio.io/inject", "maybe"}}), "shop", kEnabled, kOptions);
  EXPECT_TRUE(d.inject);  // the namespace decides
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr("\"maybe\""));
}

TEST(InjectionPolicyTest, NamespaceDisabledBeatsPodOptIn) {
  EXPECT_FALSE(DecideInjection(Pod({{"sidecar.istio.io/inject", "true"}}), "shop", {{"istio-injection", "disabled"}},
                               kOptions)
                   .inject);
}

TEST(InjectionPolicyTest, HostNetworkAndExcludedNamespacesAreNeverInjected) {
  EXPECT_FALSE(DecideInjection(Pod({{"sidecar.istio.io/inject", "true"}}, {}, true), "shop", kEnabled, kOptions).inject);
  EXPECT_THAT(DecideInjection(Pod({}, {}, true), "shop", kEnabled, kOptions).reason, HasSubstr("hostNetwork"));
  EXPECT_FALSE(DecideInjection(Pod({{"sidecar.istio.io/inject", "true"}}), "istio-system", kEnabled, kOptions).inject);
  EXPECT_FALSE(DecideInjection(Pod(), "kube-system", kEnabled, kOptions).inject);
  PolicyOptions custom;
  custom.excluded_namespaces = {"mesh-control"};
  EXPECT_FALSE(DecideInjection(Pod(), "mesh-control", kEnabled, custom).inject);
  EXPECT_TRUE(DecideInjection(Pod(), "istio-system", kEnabled, custom).inject);
}

TEST(InjectionPolicyTest, AlreadyInjected) {
  EXPECT_FALSE(AlreadyInjected(Pod()));
  EXPECT_TRUE(AlreadyInjected(Pod({}, {{"sidecar.istio.io/status", "{}"}})));
  json with_proxy = Pod();
  with_proxy["spec"]["containers"].push_back({{"name", "cmesh-proxy"}});
  EXPECT_TRUE(AlreadyInjected(with_proxy));
}

}  // namespace
}  // namespace cmesh::webhook
