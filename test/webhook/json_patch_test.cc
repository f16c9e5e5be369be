// JSON pointer escaping, the patch builder's paths, and the tests' own RFC 6902 applier.
#include <gtest/gtest.h>

#include "cmesh/webhook/json_patch.h"
#include "json_patch_apply.h"

namespace cmesh::webhook {
namespace {

using nlohmann::json;
using test_support::ApplyJsonPatch;

TEST(EscapePointerSegmentTest, EscapesTildeThenSlash) {
  EXPECT_EQ(EscapePointerSegment("sidecar.istio.io/status"), "sidecar.istio.io~1status");
  EXPECT_EQ(EscapePointerSegment("a~b"), "a~0b");
  // A literal "~1" in a key must not come back as a slash: "~" → "~0" first.
  EXPECT_EQ(EscapePointerSegment("x~1/y"), "x~01~1y");
  EXPECT_EQ(EscapePointerSegment("plain"), "plain");
}

TEST(JsonPatchApplyTest, FollowsRfc6902) {
  json doc = {{"a", {1, 2}}, {"m", {{"k/1", "v"}}}};
  json out;
  std::string error;
  ASSERT_TRUE(ApplyJsonPatch(doc,
                             json::parse(R"([{"op":"add","path":"/a/0","value":0},{"op":"add","path":"/a/-","value":3},
                                            {"op":"test","path":"/m/k~11","value":"v"},{"op":"remove","path":"/m/k~11"},
                                            {"op":"add","path":"/n","value":{"x~y":1}},
                                            {"op":"replace","path":"/n/x~0y","value":2}])"),
                             &out, &error))
      << error;
  EXPECT_EQ(out, json::parse(R"({"a":[0,1,2,3],"m":{},"n":{"x~y":2}})"));
  // A missing parent, an index past the end and a failed test are errors (RFC 6902 4.1, 4.6).
  EXPECT_FALSE(ApplyJsonPatch(doc, json::parse(R"([{"op":"add","path":"/missing/x","value":1}])"), &out, &error));
  EXPECT_FALSE(ApplyJsonPatch(doc, json::parse(R"([{"op":"add","path":"/a/3","value":1}])"), &out, &error));
  EXPECT_FALSE(ApplyJsonPatch(doc, json::parse(R"([{"op":"test","path":"/a/0","value":9}])"), &out, &error));
}

TEST(PatchBuilderTest, CreatesMissingArraysAndObjects) {
  json pod = {{"metadata", {{"name", "p"}}}, {"spec", {{"containers", json::array({{{"name", "app"}}})}}}};
  PatchBuilder b;
  b.PrependToArray(pod, "/spec/initContainers", json::array({{{"name", "i1"}}, {{"name", "i2"}}}));
  b.AppendToArray(pod, "/spec/containers", json::array({{{"name", "side"}}}));
  b.AppendToArray(pod, "/spec/volumes", json::array({{{"name", "v"}}}));
  b.SetMember(pod, "/metadata/annotations", "a/b", "1");
  b.SetMember(pod, "/metadata/annotations", "c", "2");
  const json patch = b.Build();
  // No initContainers, volumes or annotations yet: each is added whole, in one operation.
  EXPECT_EQ(patch, json::parse(R"([
    {"op":"add","path":"/spec/initContainers","value":[{"name":"i1"},{"name":"i2"}]},
    {"op":"add","path":"/spec/containers/-","value":{"name":"side"}},
    {"op":"add","path":"/spec/volumes","value":[{"name":"v"}]},
    {"op":"add","path":"/metadata/annotations","value":{"a/b":"1","c":"2"}}])"));
  json out;
  std::string error;
  ASSERT_TRUE(ApplyJsonPatch(pod, patch, &out, &error)) << error;
  EXPECT_EQ(out["spec"]["containers"].size(), 2u);
  EXPECT_EQ(out["metadata"]["annotations"]["a/b"], "1");
}

TEST(PatchBuilderTest, InsertsIntoExistingArraysAndObjects) {
  json pod = json::parse(R"({"metadata":{"annotations":{"x":"y"}},
    "spec":{"initContainers":[{"name":"app-init"}],"containers":[{"name":"app"}],"volumes":[{"name":"data"}]}})");
  PatchBuilder b;
  b.PrependToArray(pod, "/spec/initContainers", json::array({{{"name", "i1"}}, {{"name", "i2"}}}));
  b.AppendToArray(pod, "/spec/volumes", json::array({{{"name", "v"}}}));
  b.SetMember(pod, "/metadata/annotations", "sidecar.istio.io/status", "{}");
  const json patch = b.Build();
  EXPECT_EQ(patch, json::parse(R"([
    {"op":"add","path":"/spec/initContainers/0","value":{"name":"i1"}},
    {"op":"add","path":"/spec/initContainers/1","value":{"name":"i2"}},
    {"op":"add","path":"/spec/volumes/-","value":{"name":"v"}},
    {"op":"add","path":"/metadata/annotations/sidecar.istio.io~1status","value":"{}"}])"));
  json out;
  std::string error;
  ASSERT_TRUE(ApplyJsonPatch(pod, patch, &out, &error)) << error;
  EXPECT_EQ(out["spec"]["initContainers"], json::parse(R"([{"name":"i1"},{"name":"i2"},{"name":"app-init"}])"));
  EXPECT_EQ(out["metadata"]["annotations"], json::parse(R"({"x":"y","sidecar.istio.io/status":"{}"})"));
}

}  // namespace
}  // namespace cmesh::webhook
