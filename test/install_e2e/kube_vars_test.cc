#include "kube_vars.h"

#include <gtest/gtest.h>

namespace cmesh::install_e2e {
namespace {

const std::map<std::string, std::string> kEnv = {
    {"POD_NAME", "reviews-v1"}, {"POD_NAMESPACE", "bookinfo"}, {"INSTANCE_IP", "10.251.0.11"}, {"EMPTY", ""}};

TEST(ExpandKubeVarsTest, ReplacesDefinedVariables) {
  EXPECT_EQ(ExpandKubeVars("sidecar~$(INSTANCE_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local",
                           kEnv),
            "sidecar~10.251.0.11~reviews-v1.bookinfo~bookinfo.svc.cluster.local");
  EXPECT_EQ(ExpandKubeVars("[$(EMPTY)]", kEnv), "[]");
}

TEST(ExpandKubeVarsTest, LeavesUnknownNamesAndUnclosedReferencesAsWritten) {
  EXPECT_EQ(ExpandKubeVars("$(NOT_SET)/x", kEnv), "$(NOT_SET)/x");
  EXPECT_EQ(ExpandKubeVars("$(POD_NAME", kEnv), "$(POD_NAME");
  EXPECT_EQ(ExpandKubeVars("$POD_NAME and $", kEnv), "$POD_NAME and $");
}

TEST(ExpandKubeVarsTest, DoubleDollarEscapes) {
  EXPECT_EQ(ExpandKubeVars("$$(POD_NAME)", kEnv), "$(POD_NAME)");
  EXPECT_EQ(ExpandKubeVars("$$$(POD_NAME)", kEnv), "$reviews-v1");
  EXPECT_EQ(ExpandKubeVars("cost: $$5", kEnv), "cost: $5");
}

}  // namespace
}  // namespace cmesh::install_e2e
