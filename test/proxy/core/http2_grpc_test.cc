// The gRPC helpers of the HTTP/2 connection manager.
#include "http2_grpc.h"

#include <gtest/gtest.h>

namespace cmesh::proxy_core {
namespace {

TEST(Http2GrpcTest, HttpStatusesMapAsGrpcSpecifies) {
  // gRPC's doc/http-grpc-status-mapping.md, which Envoy follows for its local replies.
  EXPECT_EQ(GrpcStatusForHttp(400), 13u);  // INTERNAL
  EXPECT_EQ(GrpcStatusForHttp(401), 16u);  // UNAUTHENTICATED
  EXPECT_EQ(GrpcStatusForHttp(403), 7u);   // PERMISSION_DENIED
  EXPECT_EQ(GrpcStatusForHttp(404), 12u);  // UNIMPLEMENTED
  for (int s : {429, 502, 503, 504}) EXPECT_EQ(GrpcStatusForHttp(s), 14u) << s;  // UNAVAILABLE
  for (int s : {200, 418, 500}) EXPECT_EQ(GrpcStatusForHttp(s), 2u) << s;         // UNKNOWN
}

TEST(Http2GrpcTest, RecognisesGrpcContentTypes) {
  EXPECT_TRUE(IsGrpcRequest({{"content-type", "application/grpc"}}));
  EXPECT_TRUE(IsGrpcRequest({{"content-type", "application/grpc+proto"}}));
  EXPECT_FALSE(IsGrpcRequest({{"content-type", "application/grpc-web"}}));
  EXPECT_FALSE(IsGrpcRequest({{"content-type", "application/json"}}));
  EXPECT_FALSE(IsGrpcRequest({}));
}

TEST(Http2GrpcTest, MessagesArePercentEncoded) {
  EXPECT_EQ(GrpcPercentEncode("no route"), "no route");
  EXPECT_EQ(GrpcPercentEncode("100%\n"), "100%25%0A");
  EXPECT_EQ(GrpcPercentEncode("\xc3\xa9"), "%C3%A9");
}

TEST(Http2GrpcTest, ReadsGrpcStatus) {
  EXPECT_EQ(GrpcStatusOf({{"grpc-status", "0"}}), 0);
  EXPECT_EQ(GrpcStatusOf({{"grpc-status", "14"}}), 14);
  EXPECT_EQ(GrpcStatusOf({{"grpc-status", "x"}}), std::nullopt);
  EXPECT_EQ(GrpcStatusOf({}), std::nullopt);
}

}  // namespace
}  // namespace cmesh::proxy_core
