// Decoding AdmissionReview requests (and refusing malformed ones by name), encoding responses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/webhook/admission_review.h"

namespace cmesh::webhook {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

TEST(Base64Test, Rfc4648Vectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("f"), "Zg==");
  EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
  EXPECT_EQ(EncodeBase64("foo"), "Zm9v");
  EXPECT_EQ(EncodeBase64("foob"), "Zm9vYg==");
  EXPECT_EQ(EncodeBase64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(EncodeBase64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(EncodeBase64(std::string("\xff\xfe", 2)), "//4=");
}

TEST(AdmissionReviewTest, DecodesTheRequest) {
  std::string error;
  auto r = ParseAdmissionReview(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
      "uid":"705ab4f5","kind":{"group":"","version":"v1","kind":"Pod"},
      "resource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE",
      "object":{"metadata":{"generateName":"web-"}},"dryRun":true}})",
                                &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->uid, "705ab4f5");
  EXPECT_EQ(r->kind, "Pod");
  EXPECT_EQ(r->group, "");
  EXPECT_EQ(r->version, "v1");
  EXPECT_EQ(r->ns, "shop");
  EXPECT_EQ(r->operation, "CREATE");
  EXPECT_TRUE(r->dry_run);
  EXPECT_EQ(r->object["metadata"]["generateName"], "web-");
}

TEST(AdmissionReviewTest, MalformedInputIsNamed) {
  struct Case {
    const char* body;
    const char* expected;
  };
  const Case cases[] = {
      {"", "not JSON"},
      {"{\"apiVersion\":", "not JSON"},
      {"[1,2]", "must be a JSON object"},
      {R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"})", "apiVersion must be admission.k8s.io/v1"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod"})", "kind must be AdmissionReview"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", "request is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}})",
       "request.uid is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}})",
       "request.uid must be a string"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"}})",
       "request.operation is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE"}})",
       "request.kind is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE",
          "kind":{"kind":"Pod"},"object":"pod"}})",
       "request.object must be an object"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(ParseAdmissionReview(c.body, &error)) << c.body;
    EXPECT_THAT(error, HasSubstr(c.expected)) << c.body;
  }
}

TEST(AdmissionReviewTest, EncodesAllowedWithPatchAndDenied) {
  AdmissionResponse ok;
  ok.uid = "u1";
  ok.patch = json::array({{{"op", "add"}, {"path", "/a"}, {"value", 1}}});
  ok.warnings = {"w"};
  const json review = ToAdmissionReview(ok);
  EXPECT_EQ(review["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(review["kind"], "AdmissionReview");
  EXPECT_EQ(review["response"]["uid"], "u1");
  EXPECT_EQ(review["response"]["allowed"], true);
  EXPECT_EQ(review["response"]["patchType"], "JSONPatch");
  // base64 of the compact patch text.
  EXPECT_EQ(review["response"]["patch"], EncodeBase64(R"([{"op":"add","path":"/a","value":1}])"));
  EXPECT_EQ(review["response"]["warnings"], json::array({"w"}));
  EXPECT_FALSE(review["response"].contains("status"));

  AdmissionResponse no;
  no.uid = "u2";
  no.allowed = false;
  no.code = 400;
  no.message = "bad";
  const json denied = ToAdmissionReview(no);
  EXPECT_EQ(denied["response"]["allowed"], false);
  EXPECT_EQ(denied["response"]["status"], json::parse(R"({"code":400,"message":"bad"})"));
  EXPECT_FALSE(denied["response"].contains("patch"));
  EXPECT_FALSE(denied["response"].contains("patchType"));
}

}  // namespace
}  // namespace cmesh::webhook
