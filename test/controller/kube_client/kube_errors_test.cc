#include "cmesh/kube/kube_errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cmesh::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const ResourceKind kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceKind kVirtualServices{"networking.istio.io", "v1", "virtualservices", "VirtualService", true};
const ResourceKind kNamespaces{"", "v1", "namespaces", "Namespace", false};
const CredentialInfo kCredentials{"https://127.0.0.1:6443", "client certificate from kubeconfig /k (context c, user u)"};

// A Status body as kube-apiserver writes it.
std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
                        {"status", "Failure"}, {"message", message}, {"reason", reason}, {"code", code}}
      .dump();
}

TEST(KubeCall, DescribesVerbResourceAndScope) {
  EXPECT_EQ((KubeCall{KubeVerb::kList, kConfigMaps, "shop", ""}.Describe()), "list v1 configmaps in namespace \"shop\"");
  EXPECT_EQ((KubeCall{KubeVerb::kWatch, kConfigMaps, "", ""}.Describe()), "watch v1 configmaps in all namespaces");
  EXPECT_EQ((KubeCall{KubeVerb::kGet, kVirtualServices, "default", "reviews"}.Describe()),
            "get networking.istio.io/v1 virtualservices \"reviews\" in namespace \"default\"");
  EXPECT_EQ((KubeCall{KubeVerb::kUpdateStatus, kVirtualServices, "default", "reviews"}.Describe()),
            "update the status of networking.istio.io/v1 virtualservices \"reviews\" in namespace \"default\"");
  EXPECT_EQ((KubeCall{KubeVerb::kDelete, kNamespaces, "", "shop"}.Describe()), "delete v1 namespaces \"shop\" (cluster-scoped)");
}

TEST(ForbiddenUser, ReadsTheUserOfAnRbacDenial) {
  EXPECT_EQ(ForbiddenUser("configmaps is forbidden: User \"system:serviceaccount:istio-system:cmesh-pilot\" cannot "
                          "list resource \"configmaps\" in API group \"\" in the namespace \"a\""),
            "system:serviceaccount:istio-system:cmesh-pilot");
  EXPECT_EQ(ForbiddenUser("admission webhook \"v.istio.io\" denied the request: bad host"), "");
  EXPECT_EQ(ForbiddenUser("User \"x\" is odd"), "");  // not followed by ` cannot `
}

TEST(ErrorFromResponse, RbacDenialNamesTheMissingRule) {
  std::string server_message =
      "configmaps is forbidden: User \"system:serviceaccount:istio-system:cmesh-pilot\" cannot list resource "
      "\"configmaps\" in API group \"\" in the namespace \"shop\"";
  KubeError error = ErrorFromResponse(KubeCall{KubeVerb::kList, kConfigMaps, "shop", ""}, kCredentials, 403,
                                      StatusBody(403, "Forbidden", server_message));
  EXPECT_EQ(error.http_status, 403);
  EXPECT_EQ(error.reason, "Forbidden");
  EXPECT_TRUE(error.Forbidden());
  EXPECT_THAT(error.message,
              StartsWith("RBAC: system:serviceaccount:istio-system:cmesh-pilot cannot list v1 configmaps in namespace "
                         "\"shop\"; the ClusterRole needs: apiGroups [\"\"], resources [\"configmaps\"], verbs "
                         "[\"list\"]"));
  EXPECT_THAT(error.message, HasSubstr(server_message));
}

TEST(ErrorFromResponse, RbacDenialOfAStatusUpdateNamesTheSubresource) {
  KubeError error = ErrorFromResponse(
      KubeCall{KubeVerb::kUpdateStatus, kVirtualServices, "default", "reviews"}, kCredentials, 403,
      StatusBody(403, "Forbidden", "virtualservices.networking.istio.io \"reviews\" is forbidden: User \"bob\" cannot "
                                   "update resource \"virtualservices/status\" in API group \"networking.istio.io\""));
  EXPECT_THAT(error.message, StartsWith("RBAC: bob cannot update networking.istio.io/v1 virtualservices/status "
                                        "\"reviews\" in namespace \"default\"; the ClusterRole needs: apiGroups "
                                        "[\"networking.istio.io\"], resources [\"virtualservices/status\"], verbs "
                                        "[\"update\"]"));
}

TEST(ErrorFromResponse, RbacDenialAtClusterScope) {
  KubeError error = ErrorFromResponse(KubeCall{KubeVerb::kWatch, kNamespaces, "", ""}, kCredentials, 403,
                                      StatusBody(403, "Forbidden", "namespaces is forbidden: User \"bob\" cannot watch "
                                                                   "resource \"namespaces\" in API group \"\" at the "
                                                                   "cluster scope"));
  EXPECT_THAT(error.message, StartsWith("RBAC: bob cannot watch v1 namespaces in the cluster scope; the ClusterRole "
                                        "needs: apiGroups [\"\"], resources [\"namespaces\"], verbs [\"watch\"]"));
}

TEST(ErrorFromResponse, ForbiddenWithoutRbacQuotesTheServer) {
  KubeError error = ErrorFromResponse(KubeCall{KubeVerb::kCreate, kVirtualServices, "default", "r"}, kCredentials, 403,
                                      StatusBody(403, "Forbidden", "admission webhook \"v\" denied the request: no"));
  EXPECT_THAT(error.message, StartsWith("Forbidden: create networking.istio.io/v1 virtualservices \"r\""));
  EXPECT_THAT(error.message, HasSubstr("admission webhook \"v\" denied the request: no"));
}

TEST(ErrorFromResponse, UnauthorizedNamesServerCredentialsAndCall) {
  KubeError error = ErrorFromResponse(KubeCall{KubeVerb::kList, kConfigMaps, "shop", ""}, kCredentials, 401,
                                      StatusBody(401, "Unauthorized", "Unauthorized"));
  EXPECT_EQ(error.http_status, 401);
  EXPECT_TRUE(error.Forbidden());
  EXPECT_THAT(error.message, StartsWith("Unauthorized: the API server at https://127.0.0.1:6443 rejected the "
                                        "credentials (client certificate from kubeconfig /k (context c, user u)) to "
                                        "list v1 configmaps in namespace \"shop\""));
}

TEST(ErrorFromResponse, OtherStatusesKeepReasonAndMessage) {
  KubeError not_found = ErrorFromResponse(KubeCall{KubeVerb::kGet, kConfigMaps, "shop", "x"}, kCredentials, 404,
                                          StatusBody(404, "NotFound", "configmaps \"x\" not found"));
  EXPECT_TRUE(not_found.NotFound());
  EXPECT_EQ(not_found.reason, "NotFound");
  EXPECT_EQ(not_found.message, "get v1 configmaps \"x\" in namespace \"shop\": HTTP 404 NotFound: configmaps \"x\" not found");

  KubeError exists = ErrorFromResponse(KubeCall{KubeVerb::kCreate, kConfigMaps, "shop", "x"}, kCredentials, 409,
                                       StatusBody(409, "AlreadyExists", "configmaps \"x\" already exists"));
  EXPECT_TRUE(exists.Conflict());
  EXPECT_EQ(exists.reason, "AlreadyExists");
}

TEST(ErrorFromResponse, BodiesThatAreNotStatusObjects) {
  KubeError error = ErrorFromResponse(KubeCall{KubeVerb::kList, kConfigMaps, "", ""}, kCredentials, 502,
                                      "upstream connect error\n");
  EXPECT_EQ(error.http_status, 502);
  EXPECT_EQ(error.reason, "");
  EXPECT_EQ(error.message, "list v1 configmaps in all namespaces: HTTP 502: upstream connect error");
  KubeError gone = ErrorFromResponse(KubeCall{KubeVerb::kList, kConfigMaps, "", ""}, kCredentials, 410, "");
  EXPECT_EQ(gone.reason, "Gone");
  EXPECT_TRUE(gone.Gone());
  EXPECT_EQ(ErrorFromResponse(KubeCall{}, kCredentials, 500, std::string(5000, 'x')).message.size() < 1000, true);
}

TEST(ErrorFromStatus, ExpiredWatchIsGone) {
  nlohmann::json status = nlohmann::json::parse(StatusBody(410, "Expired", "too old resource version: 5 (120)"));
  KubeError error = ErrorFromStatus(KubeCall{KubeVerb::kWatch, kConfigMaps, "shop", ""}, kCredentials, status);
  EXPECT_EQ(error.http_status, 410);
  EXPECT_EQ(error.reason, "Expired");
  EXPECT_TRUE(error.Gone());
  EXPECT_THAT(error.message, HasSubstr("watch v1 configmaps in namespace \"shop\""));
  EXPECT_THAT(error.message, HasSubstr("too old resource version: 5 (120)"));
}

TEST(ErrorFromStatus, GoneWithoutCodeStillCountsAsGone) {
  KubeError error = ErrorFromStatus(KubeCall{KubeVerb::kWatch, kConfigMaps, "", ""}, kCredentials,
                                    nlohmann::json{{"kind", "Status"}, {"reason", "Gone"}});
  EXPECT_EQ(error.http_status, 410);
  EXPECT_TRUE(error.Gone());
}

TEST(TransportError, HasNoHttpStatus) {
  KubeError error = TransportError(KubeCall{KubeVerb::kGet, kConfigMaps, "a", "b"}, kCredentials, "Connection refused");
  EXPECT_EQ(error.http_status, 0);
  EXPECT_FALSE(error.NotFound());
  EXPECT_EQ(error.message, "get v1 configmaps \"b\" in namespace \"a\": no answer from the API server at "
                           "https://127.0.0.1:6443: Connection refused");
}

}  // namespace
}  // namespace cmesh::kube
