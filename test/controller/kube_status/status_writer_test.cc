// StatusWriter against an in-memory API: when it writes, when it does not, and how it handles
// conflicts and other writers. The real-apiserver counterpart is status_writer_kube_test.cc.
#include "cmesh/kube_status/status_writer.h"

#include <gtest/gtest.h>

#include "cmesh/kube_status/istio_status.h"
#include "fake_kube_client.h"

namespace cmesh::kube_status {
namespace {

using nlohmann::json;
using cmesh::testing::FakeKubeClient;

const kube::ResourceKind kVirtualServices{"networking.istio.io", "v1", "virtualservices", "VirtualService", true};

model::Diagnostic TimeoutError() {
  model::Diagnostic diagnostic;
  diagnostic.severity = model::Severity::kError;
  diagnostic.object = {"", 0, "VirtualService", "default", "reviews"};
  diagnostic.field = "spec.http[0].timeout";
  diagnostic.message = "invalid duration \"fast\"";
  return diagnostic;
}

class StatusWriterTest : public ::testing::Test {
 protected:
  StatusWriterTest() {
    StatusWriterOptions options;
    options.now = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1800000000)); };
    writer_ = std::make_unique<StatusWriter>(client_, options);
  }
  // Stores a VirtualService default/reviews (generation 2) and returns it as the API has it.
  json PutReviews(json status = nullptr) {
    json object = {{"apiVersion", "networking.istio.io/v1"},
                   {"kind", "VirtualService"},
                   {"metadata", {{"name", "reviews"}, {"namespace", "default"}, {"generation", 2}}},
                   {"spec", {{"hosts", {"reviews"}}}}};
    if (!status.is_null()) object["status"] = status;
    return client_.Put(kVirtualServices, object);
  }
  json Stored() { return *client_.Peek(kVirtualServices, "default", "reviews"); }

  FakeKubeClient client_;
  std::unique_ptr<StatusWriter> writer_;
};

TEST_F(StatusWriterTest, AChangedResultIsWrittenOnce) {
  json object = PutReviews();
  ReconcileResult result = writer_->Reconcile(object, {TimeoutError()});
  EXPECT_TRUE(result.wrote);
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(client_.Calls("updatestatus"), 1);
  json status = Stored()["status"];
  EXPECT_EQ(status["observedGeneration"], 2);
  EXPECT_EQ(status["conditions"][0]["status"], "False");
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], "2027-01-15T08:00:00Z");
  ASSERT_EQ(status["validationMessages"].size(), 1u);
  EXPECT_EQ(status["validationMessages"][0]["description"],
            "Schema validation error: spec.http[0].timeout: invalid duration \"fast\"");
  EXPECT_EQ(Stored()["spec"], object["spec"]) << "only the status changes";
}

TEST_F(StatusWriterTest, AnUnchangedResultIsNotWritten) {
  writer_->Reconcile(PutReviews(), {TimeoutError()});
  json seen = Stored();  // what an informer would now hold
  ReconcileResult result = writer_->Reconcile(seen, {TimeoutError()});
  EXPECT_TRUE(result.skipped_unchanged);
  EXPECT_FALSE(result.wrote);
  EXPECT_EQ(client_.Calls("updatestatus"), 1);
  EXPECT_EQ(Stored()["metadata"]["resourceVersion"], seen["metadata"]["resourceVersion"]);
}

TEST_F(StatusWriterTest, AConflictIsRereadAndRetried) {
  json stale = PutReviews();
  // Someone else writes the object after we read it (a label change): our copy is stale.
  json newer = stale;
  newer["metadata"]["labels"] = {{"team", "books"}};
  client_.Put(kVirtualServices, newer);
  ReconcileResult result = writer_->Reconcile(stale, {});
  EXPECT_TRUE(result.wrote);
  EXPECT_EQ(result.attempts, 2);
  EXPECT_EQ(client_.Calls("get"), 1);
  EXPECT_EQ(Stored()["metadata"]["labels"]["team"], "books") << "the re-read object was the base";
  EXPECT_EQ(Stored()["status"]["conditions"][0]["status"], "True");
}

TEST_F(StatusWriterTest, AConflictWithTheSameResultAlreadyWrittenEndsWithoutWriting) {
  json stale = PutReviews();
  // Another replica already wrote exactly what we would write.
  json done = stale;
  done["status"] = DesiredStatus(nullptr, 2, {}, "2026-01-01T00:00:00Z");
  client_.Put(kVirtualServices, done);
  ReconcileResult result = writer_->Reconcile(stale, {});
  EXPECT_TRUE(result.skipped_unchanged);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(Stored()["status"]["conditions"][0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
}

TEST_F(StatusWriterTest, OtherWritersConditionsArePreserved) {
  json foreign = {{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2020-01-01T00:00:00Z"}};
  json object = PutReviews({{"conditions", json::array({foreign})}, {"owner", "someone"}});
  ASSERT_TRUE(writer_->Reconcile(object, {}).wrote);
  json status = Stored()["status"];
  ASSERT_EQ(status["conditions"].size(), 2u);
  EXPECT_EQ(status["conditions"][0], foreign);
  EXPECT_EQ(status["conditions"][1]["type"], "Reconciled");
  EXPECT_EQ(status["owner"], "someone");
}

TEST_F(StatusWriterTest, ConflictsThatNeverEndAreBounded) {
  json object = PutReviews();
  client_.SetHook([](const std::string& verb, const kube::ResourceKind&, const json&) {
    return verb == "updatestatus" ? std::optional<kube::KubeError>(kube::KubeError{409, "Conflict", "modified"})
                                  : std::nullopt;
  });
  ReconcileResult result = writer_->Reconcile(object, {});
  EXPECT_TRUE(result.gave_up);
  EXPECT_FALSE(result.wrote);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.attempts, StatusWriterOptions().max_attempts);
}

TEST_F(StatusWriterTest, AWriterThatKeepsRevertingUsIsNotFought) {
  json object = PutReviews();
  const int rewrites = StatusWriterOptions().max_rewrites;
  for (int round = 0; round < rewrites; ++round) {
    ReconcileResult result = writer_->Reconcile(object, {TimeoutError()});
    ASSERT_TRUE(result.wrote) << "round " << round;
    // The other writer puts its own idea of our condition back; the informer hands us the result.
    json reverted = Stored();
    reverted["status"] = {{"conditions", json::array({{{"type", "Reconciled"}, {"status", "True"}}})}};
    object = client_.Put(kVirtualServices, reverted);
  }
  ReconcileResult result = writer_->Reconcile(object, {TimeoutError()});
  EXPECT_TRUE(result.gave_up);
  EXPECT_EQ(client_.Calls("updatestatus"), rewrites);
  // A new generation is a new result to report: writing resumes.
  object["metadata"]["generation"] = 3;
  object = client_.Put(kVirtualServices, object);
  EXPECT_TRUE(writer_->Reconcile(object, {TimeoutError()}).wrote);
}

TEST_F(StatusWriterTest, OtherFailuresAreReportedAsErrors) {
  json object = PutReviews();
  client_.SetHook([](const std::string& verb, const kube::ResourceKind&, const json&) {
    return verb == "updatestatus" ? std::optional<kube::KubeError>(kube::KubeError{
                                        403, "Forbidden", "update virtualservices/status is forbidden"})
                                  : std::nullopt;
  });
  ReconcileResult result = writer_->Reconcile(object, {});
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("forbidden"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("VirtualService default/reviews"), std::string::npos) << result.error;
}

TEST_F(StatusWriterTest, AnObjectWithoutResourceVersionIsReadFirst) {
  json stored = PutReviews({{"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}});
  json trimmed = stored;
  trimmed["metadata"].erase("resourceVersion");
  trimmed.erase("status");
  ReconcileResult result = writer_->Reconcile(trimmed, {});
  EXPECT_TRUE(result.wrote);
  EXPECT_EQ(client_.Calls("get"), 1);
  EXPECT_EQ(Stored()["status"]["conditions"].size(), 2u) << "the stored Ready condition survived";
}

TEST_F(StatusWriterTest, OnlyIstioNetworkingKindsAreAccepted) {
  json service = {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "a"}, {"namespace", "b"}}}};
  ReconcileResult result = writer_->Reconcile(service, {});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(client_.Calls("updatestatus"), 0);
  kube::ResourceKind resource;
  ASSERT_TRUE(ResourceForObject({{"apiVersion", "networking.istio.io/v1alpha3"}, {"kind", "DestinationRule"}},
                                &resource));
  EXPECT_EQ(resource.plural, "destinationrules");
  EXPECT_EQ(resource.version, "v1alpha3");
}

}  // namespace
}  // namespace cmesh::kube_status
