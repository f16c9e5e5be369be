// StatusWriter on a real kube-apiserver (fixture `kube`) with the project's CRDs (crds/): the
// status goes through the status subresource, reads back as written, and an unchanged result
// leaves the object alone.
#include <gtest/gtest.h>

#include <memory>

#include "admin_client.h"
#include "cmesh/kube_status/status_writer.h"
#include "kube_env.h"

namespace cmesh::kube_status {
namespace {

using nlohmann::json;

const kube::ResourceKind kVirtualServices{"networking.istio.io", "v1", "virtualservices", "VirtualService", true};

model::Diagnostic TimeoutError(const std::string& ns) {
  model::Diagnostic diagnostic;
  diagnostic.severity = model::Severity::kError;
  diagnostic.object = {"", 0, "VirtualService", ns, "reviews"};
  diagnostic.field = "spec.http[0].timeout";
  diagnostic.message = "invalid duration \"soon\"";
  return diagnostic;
}

model::Diagnostic UnreachableWarning(const std::string& ns) {
  model::Diagnostic diagnostic = TimeoutError(ns);
  diagnostic.severity = model::Severity::kWarning;
  diagnostic.field = "spec.http[1]";
  diagnostic.message = "unreachable: http[0] matches every request";
  return diagnostic;
}

class StatusWriterKubeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CMESH_REQUIRE_KUBE();
    ASSERT_EQ(testing::InstallCrds(), "");
    ns_ = std::make_unique<testing::KubeNamespace>();
    ASSERT_EQ(ns_->error(), "");
    client_ = testing::AdminKubeClient();
    ASSERT_TRUE(client_);
    // Applied in v1alpha3, as users of older Istio releases still write it; read back as the
    // server returns it.
    auto applied = testing::RunKubectl({"apply", "-n", ns_->name(), "-f", "-"}, R"(
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
)");
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
  }
  // `kubectl get vs reviews -o json`: what an observer sees.
  json Kubectl() {
    auto result = testing::RunKubectl({"get", "vs", "reviews", "-n", ns_->name(), "-o", "json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return json::parse(result.out, nullptr, false);
  }
  json Read() {
    auto object = client_->Get(kVirtualServices, ns_->name(), "reviews");
    EXPECT_TRUE(object.ok()) << object.error.message;
    return object.ok() ? *object.value : json();
  }

  std::unique_ptr<testing::KubeNamespace> ns_;
  std::unique_ptr<kube::KubeClient> client_;
};

TEST_F(StatusWriterKubeTest, WritesIstioShapedStatusOnceAndNotAgainForTheSameResult) {
  StatusWriter writer(*client_);
  json before = Read();
  ReconcileResult first = writer.Reconcile(before, {TimeoutError(ns_->name()), UnreachableWarning(ns_->name())});
  ASSERT_TRUE(first.ok()) << first.error;
  EXPECT_TRUE(first.wrote);

  json seen = Kubectl();
  json status = seen["status"];
  ASSERT_TRUE(status.is_object()) << seen.dump(2);
  EXPECT_EQ(status["observedGeneration"], 1);
  ASSERT_EQ(status["conditions"].size(), 1u) << status.dump(2);
  EXPECT_EQ(status["conditions"][0]["type"], "Reconciled");
  EXPECT_EQ(status["conditions"][0]["status"], "False");
  EXPECT_EQ(status["conditions"][0]["reason"], "Invalid");
  EXPECT_TRUE(status["conditions"][0]["lastTransitionTime"].is_string());
  EXPECT_EQ(status["validationMessages"], json::parse(R"([
    {"type": {"code": "IST0106", "name": "SchemaValidationError"}, "level": "ERROR",
     "description": "Schema validation error: spec.http[0].timeout: invalid duration \"soon\"",
     "documentationUrl": "https://istio.io/latest/docs/reference/config/analysis/ist0106/"},
    {"type": {"code": "IST0133", "name": "SchemaWarning"}, "level": "WARNING",
     "description": "Schema validation warning: spec.http[1]: unreachable: http[0] matches every request",
     "documentationUrl": "https://istio.io/latest/docs/reference/config/analysis/ist0133/"}
  ])")) << status.dump(2);
  EXPECT_EQ(seen["spec"], before["spec"]);
  EXPECT_EQ(seen["metadata"]["generation"], 1) << "a status write is not a spec change";
  EXPECT_NE(seen["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);

  // The same input again, from the object as it now is: nothing to write.
  ReconcileResult second = writer.Reconcile(Read(), {TimeoutError(ns_->name()), UnreachableWarning(ns_->name())});
  EXPECT_TRUE(second.skipped_unchanged) << second.error;
  EXPECT_EQ(second.attempts, 0);
  EXPECT_EQ(Kubectl()["metadata"]["resourceVersion"], seen["metadata"]["resourceVersion"]);
}

TEST_F(StatusWriterKubeTest, KeepsOtherWritersConditionsAndRetriesAConflict) {
  json stale = Read();
  // Another writer adds its own condition through the status subresource, after we read.
  auto patched = testing::RunKubectl(
      {"patch", "vs", "reviews", "-n", ns_->name(), "--subresource=status", "--type=merge", "-p",
       R"({"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2020-01-01T00:00:00Z"}]}})"});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;

  StatusWriter writer(*client_);
  ReconcileResult result = writer.Reconcile(stale, {});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_TRUE(result.wrote);
  EXPECT_EQ(result.attempts, 2) << "the stale resourceVersion conflicts once";

  json status = Kubectl()["status"];
  ASSERT_EQ(status["conditions"].size(), 2u) << status.dump(2);
  EXPECT_EQ(status["conditions"][0], json::parse(R"({"type":"Ready","status":"True",
                                                     "lastTransitionTime":"2020-01-01T00:00:00Z"})"));
  EXPECT_EQ(status["conditions"][1]["type"], "Reconciled");
  EXPECT_EQ(status["conditions"][1]["status"], "True");
  EXPECT_FALSE(status.contains("validationMessages")) << status.dump(2);
}

}  // namespace
}  // namespace cmesh::kube_status
