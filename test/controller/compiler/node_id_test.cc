#include <gtest/gtest.h>

#include "cmesh/compiler/proxy_node.h"

namespace cmesh::compiler {
namespace {

TEST(NodeIdTest, ParsesIstioSidecarId) {
  std::string error;
  auto node = ParseNodeId("sidecar~10.1.0.10~productpage-v1-x.default~default.svc.cluster.local", &error);
  ASSERT_TRUE(node.has_value()) << error;
  EXPECT_EQ(node->type, "sidecar");
  EXPECT_EQ(node->ip, "10.1.0.10");
  EXPECT_EQ(node->pod_name, "productpage-v1-x");
  EXPECT_EQ(node->ns, "default");
  EXPECT_EQ(node->domain, "default.svc.cluster.local");
  EXPECT_EQ(node->id, "sidecar~10.1.0.10~productpage-v1-x.default~default.svc.cluster.local");
}

TEST(NodeIdTest, PodNameMayContainDots) {
  std::string error;
  auto node = ParseNodeId("sidecar~10.0.0.1~a.b.c.prod~prod.svc.cluster.local", &error);
  ASSERT_TRUE(node.has_value()) << error;
  EXPECT_EQ(node->pod_name, "a.b.c");
  EXPECT_EQ(node->ns, "prod");
}

TEST(NodeIdTest, RejectsMalformedIdsWithAReason) {
  struct Case {
    const char* id;
    const char* reason;
  } cases[] = {
      {"sidecar~10.0.0.1~pod.default", "4 fields"},
      {"router~10.0.0.1~pod.default~default.svc.cluster.local", "type"},
      {"sidecar~not-an-ip~pod.default~default.svc.cluster.local", "IP"},
      {"sidecar~10.0.0.1~podwithoutnamespace~default.svc.cluster.local", "POD.NAMESPACE"},
      {"sidecar~10.0.0.1~pod.default~other.svc.cluster.local", "domain"},
      {"", "4 fields"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(ParseNodeId(c.id, &error).has_value()) << c.id;
    EXPECT_NE(error.find(c.reason), std::string::npos) << c.id << ": " << error;
  }
}

}  // namespace
}  // namespace cmesh::compiler
