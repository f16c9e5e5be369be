#include "cmesh/kube/kube_url.h"

#include <gtest/gtest.h>

namespace cmesh::kube {
namespace {

const ResourceKind kPods{"", "v1", "pods", "Pod", true};
const ResourceKind kVirtualServices{"networking.istio.io", "v1", "virtualservices", "VirtualService", true};
const ResourceKind kNamespaces{"", "v1", "namespaces", "Namespace", false};
const ResourceKind kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false};

TEST(KubeUrl, CoreGroupLivesUnderApi) {
  EXPECT_EQ(GroupVersionPath(kPods), "/api/v1");
  EXPECT_EQ(CollectionPath(kPods, "shop"), "/api/v1/namespaces/shop/pods");
  EXPECT_EQ(ObjectPath(kPods, "shop", "web-0"), "/api/v1/namespaces/shop/pods/web-0");
}

TEST(KubeUrl, NamedGroupsLiveUnderApis) {
  EXPECT_EQ(GroupVersionPath(kVirtualServices), "/apis/networking.istio.io/v1");
  EXPECT_EQ(CollectionPath(kVirtualServices, "default"), "/apis/networking.istio.io/v1/namespaces/default/virtualservices");
  EXPECT_EQ(ObjectPath(kVirtualServices, "default", "reviews", "status"),
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews/status");
}

TEST(KubeUrl, EmptyNamespaceMeansEveryNamespace) {
  EXPECT_EQ(CollectionPath(kPods, ""), "/api/v1/pods");
  EXPECT_EQ(CollectionPath(kVirtualServices, ""), "/apis/networking.istio.io/v1/virtualservices");
}

TEST(KubeUrl, ClusterScopedKindsIgnoreTheNamespace) {
  EXPECT_EQ(CollectionPath(kNamespaces, "shop"), "/api/v1/namespaces");
  EXPECT_EQ(ObjectPath(kNamespaces, "shop", "shop"), "/api/v1/namespaces/shop");
  EXPECT_EQ(ObjectPath(kClusterRoles, "x", "cmesh-pilot"), "/apis/rbac.authorization.k8s.io/v1/clusterroles/cmesh-pilot");
}

TEST(KubeUrl, PercentEncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b/c?d&e=f"), "a%20b%2Fc%3Fd%26e%3Df");
  EXPECT_EQ(PercentEncode("\xC3\xA9"), "%C3%A9");  // é in UTF-8, byte by byte
}

TEST(KubeUrl, SelectorsBecomeOneQueryValueEach) {
  std::string path = WithQuery("/api/v1/pods", {{"labelSelector", "app in (a,b),tier!=db"},
                                                {"fieldSelector", "status.phase=Running"}});
  EXPECT_EQ(path, "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb"
                  "&fieldSelector=status.phase%3DRunning");
}

TEST(KubeUrl, EmptyParametersAreLeftOutAndOrderIsKept) {
  EXPECT_EQ(WithQuery("/api/v1/pods", {{"limit", "3"}, {"continue", ""}, {"labelSelector", "a=b"}}),
            "/api/v1/pods?limit=3&labelSelector=a%3Db");
  EXPECT_EQ(WithQuery("/api/v1/pods", {{"continue", ""}}), "/api/v1/pods");
  EXPECT_EQ(WithQuery("/api/v1/pods?watch=1", {{"limit", "3"}}), "/api/v1/pods?watch=1&limit=3");
}

TEST(KubeUrl, NamesAreEscapedInPaths) {
  // Names are DNS labels in practice; a hostile one must not reach another path.
  EXPECT_EQ(ObjectPath(kPods, "a/b", "../x"), "/api/v1/namespaces/a%2Fb/pods/..%2Fx");
}

}  // namespace
}  // namespace cmesh::kube
