// The shadow authority of a mirrored request, as Envoy writes it.
#include <gtest/gtest.h>

#include "mirror_request.h"

namespace cmesh::proxy_core {
namespace {

TEST(ShadowHostTest, TheSuffixGoesBeforeThePort) {
  EXPECT_EQ(ShadowHost("reviews:9080"), "reviews-shadow:9080");
  EXPECT_EQ(ShadowHost("reviews.default.svc.cluster.local"), "reviews.default.svc.cluster.local-shadow");
  EXPECT_EQ(ShadowHost("10.0.0.5:80"), "10.0.0.5-shadow:80");
  EXPECT_EQ(ShadowHost("[::1]:8080"), "[::1]-shadow:8080");
  EXPECT_EQ(ShadowHost("[::1]"), "[::1]-shadow");
}

}  // namespace
}  // namespace cmesh::proxy_core
