// The status computation alone: what cmesh writes, and what it leaves to other writers.
#include "cmesh/kube_status/istio_status.h"

#include <gtest/gtest.h>

namespace cmesh::kube_status {
namespace {

using nlohmann::json;

model::Diagnostic Error(const std::string& field, const std::string& message) {
  model::Diagnostic diagnostic;
  diagnostic.severity = model::Severity::kError;
  diagnostic.object = {"", 0, "VirtualService", "default", "reviews"};
  diagnostic.field = field;
  diagnostic.message = message;
  return diagnostic;
}

model::Diagnostic Warning(const std::string& field, const std::string& message) {
  model::Diagnostic diagnostic = Error(field, message);
  diagnostic.severity = model::Severity::kWarning;
  return diagnostic;
}

TEST(IstioStatusTest, AValidObjectIsReconciledWithoutMessages) {
  json status = DesiredStatus(nullptr, 3, {}, "2026-11-26T07:00:00Z");
  EXPECT_EQ(status, json::parse(R"({
    "conditions": [{"type": "Reconciled", "status": "True", "reason": "Accepted",
                    "message": "The configuration is valid and served",
                    "lastTransitionTime": "2026-11-26T07:00:00Z"}],
    "observedGeneration": 3
  })")) << status.dump(2);
}

TEST(IstioStatusTest, EachDiagnosticBecomesAnIstioValidationMessageNamingTheField) {
  json status = DesiredStatus(json::object(), 2,
                              {Error("spec.http[0].timeout", "invalid duration \"x\""),
                               Warning("spec.http[1]", "unreachable: http[0] matches every request"),
                               Error("", "no hosts")},
                              "2026-11-26T07:00:00Z");
  EXPECT_EQ(status["validationMessages"], json::parse(R"([
    {"type": {"code": "IST0106", "name": "SchemaValidationError"}, "level": "ERROR",
     "description": "Schema validation error: spec.http[0].timeout: invalid duration \"x\"",
     "documentationUrl": "https://istio.io/latest/docs/reference/config/analysis/ist0106/"},
    {"type": {"code": "IST0133", "name": "SchemaWarning"}, "level": "WARNING",
     "description": "Schema validation warning: spec.http[1]: unreachable: http[0] matches every request",
     "documentationUrl": "https://istio.io/latest/docs/reference/config/analysis/ist0133/"},
    {"type": {"code": "IST0106", "name": "SchemaValidationError"}, "level": "ERROR",
     "description": "Schema validation error: no hosts",
     "documentationUrl": "https://istio.io/latest/docs/reference/config/analysis/ist0106/"}
  ])")) << status.dump(2);
  ASSERT_EQ(status["conditions"].size(), 1u);
  EXPECT_EQ(status["conditions"][0]["status"], "False");
  EXPECT_EQ(status["conditions"][0]["reason"], "Invalid");
  EXPECT_EQ(status["conditions"][0]["message"],
            "The configuration is invalid and is not served: 2 errors in validationMessages");
  EXPECT_EQ(status["observedGeneration"], 2);
}

TEST(IstioStatusTest, WarningsAloneKeepTheObjectServed) {
  json status = DesiredStatus(nullptr, 1, {Warning("spec.http[1]", "unreachable")}, "T");
  EXPECT_EQ(status["conditions"][0]["status"], "True");
  EXPECT_EQ(status["conditions"][0]["message"], "The configuration is valid and served, with 1 warning in "
                                                "validationMessages");
}

TEST(IstioStatusTest, OtherWritersConditionsStayInPlaceAndInOrder) {
  json current = json::parse(R"({
    "conditions": [
      {"type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"},
      {"type": "Reconciled", "status": "False", "reason": "Invalid", "message": "old",
       "lastTransitionTime": "2025-01-01T00:00:00Z"},
      {"type": "Distributed", "status": "Unknown", "reason": "Pending"}
    ],
    "someoneElses": {"x": 1}
  })");
  json status = DesiredStatus(current, 5, {}, "2026-11-26T07:00:00Z");
  EXPECT_EQ(status["conditions"][0], current["conditions"][0]);
  EXPECT_EQ(status["conditions"][2], current["conditions"][2]);
  EXPECT_EQ(status["conditions"][1]["type"], "Reconciled");
  EXPECT_EQ(status["conditions"][1]["status"], "True");
  EXPECT_EQ(status["conditions"][1]["lastTransitionTime"], "2026-11-26T07:00:00Z") << "False → True is a transition";
  EXPECT_EQ(status["someoneElses"], current["someoneElses"]);
}

TEST(IstioStatusTest, TheTransitionTimeStaysWhileTheConditionStatusDoesNotChange) {
  json first = DesiredStatus(nullptr, 1, {Error("spec.hosts", "required")}, "2026-11-26T07:00:00Z");
  // A different error, same condition status (False): only the message and messages change.
  json second = DesiredStatus(first, 2, {Error("spec.http[0]", "other")}, "2026-11-26T08:00:00Z");
  EXPECT_EQ(second["conditions"][0]["lastTransitionTime"], "2026-11-26T07:00:00Z");
  EXPECT_EQ(second["validationMessages"].size(), 1u);
  EXPECT_EQ(second["validationMessages"][0]["description"], "Schema validation error: spec.http[0]: other");
  json third = DesiredStatus(second, 3, {}, "2026-11-26T09:00:00Z");
  EXPECT_EQ(third["conditions"][0]["lastTransitionTime"], "2026-11-26T09:00:00Z");
  EXPECT_FALSE(third.contains("validationMessages")) << "ours were the only ones: the field goes";
}

TEST(IstioStatusTest, OtherCodesInValidationMessagesAreKept) {
  json foreign = json::parse(R"({"type": {"code": "IST0101", "name": "ReferencedResourceNotFound"},
                                 "level": "ERROR", "description": "Referenced host not found: \"x\""})");
  json current = {{"validationMessages", json::array({foreign, ValidationMessage(Error("spec.a", "old"))})}};
  json status = DesiredStatus(current, 1, {Warning("spec.b", "new")}, "T");
  ASSERT_EQ(status["validationMessages"].size(), 2u);
  EXPECT_EQ(status["validationMessages"][0], foreign);
  EXPECT_EQ(status["validationMessages"][1]["description"], "Schema validation warning: spec.b: new");
  json valid = DesiredStatus(current, 1, {}, "T");
  EXPECT_EQ(valid["validationMessages"], json::array({foreign}));
}

TEST(IstioStatusTest, ComputingAgainFromItsOwnResultChangesNothing) {
  std::vector<model::Diagnostic> diagnostics = {Error("spec.http[0].timeout", "bad"), Warning("spec.x", "w")};
  json first = DesiredStatus(nullptr, 4, diagnostics, "2026-11-26T07:00:00Z");
  EXPECT_EQ(DesiredStatus(first, 4, diagnostics, "2026-11-26T09:00:00Z"), first);
  json valid = DesiredStatus(nullptr, 4, {}, "2026-11-26T07:00:00Z");
  EXPECT_EQ(DesiredStatus(valid, 4, {}, "2026-11-26T09:00:00Z"), valid);
}

}  // namespace
}  // namespace cmesh::kube_status
