// VirtualService chaining: a root rule with `delegate` is replaced by the delegate
// VirtualService's http rules, merged with it the way Istio merges them (mergeHTTPRoute,
// mergeHTTPMatchRequests, hasConflict): a delegate match must lie within a root match, unset
// conditions and settings come from the root, names join as "root-delegate".
#include <gtest/gtest.h>

#include <algorithm>

#include "cmesh/compiler/incremental_compiler.h"
#include "compiler_test_util.h"

namespace cmesh::compiler::testing {
namespace {

using envoy::config::route::v3::VirtualHost;
constexpr char kNode[] = "sidecar~10.0.0.5~client-1.default~default.svc.cluster.local";

std::string Vs(const std::string& name, const std::string& ns, const std::string& spec) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: " + name +
         "\n  namespace: " + ns + "\nspec:\n" + spec + "---\n";
}

std::string Base() {
  return ServiceYaml("reviews", "default", {"http:9080"}) + ServiceYaml("reviews", "other", {"http:9080"}) +
         ServiceYaml("ratings", "default", {"http:9080"});
}

// The root: /v1 goes to the delegate `child` (in `child_ns`), everything else to reviews v3.
std::string Root(const std::string& child_ns = "") {
  return Vs("root", "default",
            "  hosts: [reviews]\n  http:\n  - name: root\n    match:\n    - uri: {prefix: /v1}\n    timeout: 5s\n"
            "    delegate:\n      name: child\n" +
                (child_ns.empty() ? std::string() : "      namespace: " + child_ns + "\n") +
                "  - route:\n    - destination: {host: reviews, subset: v3}\n");
}

std::string Child(const std::string& ns = "default", const std::string& extra = "") {
  return Vs("child", ns,
            extra + "  http:\n  - name: leaf\n    match:\n    - uri: {prefix: /v1/a}\n    route:\n"
                    "    - destination: {host: reviews, subset: v1}\n    timeout: 1s\n"
                    "  - route:\n    - destination: {host: ratings}\n");
}

const VirtualHost* Reviews(const XdsResources& r) {
  const auto* rc = FindRoute(r, "9080");
  return rc == nullptr ? nullptr : FindVirtualHost(*rc, "reviews.default.svc.cluster.local:9080");
}

bool HasWarning(const XdsResources& r, const std::string& needle) {
  return std::any_of(r.warnings.begin(), r.warnings.end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

TEST(DelegateTest, DelegateRulesReplaceTheRootRule) {
  auto r = CompileFor(ParseYaml(Base() + Root() + Child()), kNode);
  const VirtualHost* vh = Reviews(r);
  ASSERT_NE(vh, nullptr);
  ASSERT_EQ(vh->routes_size(), 3);
  // Delegate rule 0: its own (narrower) match, its own timeout; names joined.
  EXPECT_EQ(vh->routes(0).name(), "root-leaf");
  EXPECT_EQ(vh->routes(0).match().prefix(), "/v1/a");
  EXPECT_EQ(vh->routes(0).route().cluster(), "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_EQ(vh->routes(0).route().timeout().seconds(), 1);
  // Delegate rule 1 has no match: the root's match; no timeout: the root's.
  EXPECT_EQ(vh->routes(1).name(), "root");
  EXPECT_EQ(vh->routes(1).match().prefix(), "/v1");
  EXPECT_EQ(vh->routes(1).route().cluster(), "outbound|9080||ratings.default.svc.cluster.local");
  EXPECT_EQ(vh->routes(1).route().timeout().seconds(), 5);
  // The root's own later rule.
  EXPECT_EQ(vh->routes(2).route().cluster(), "outbound|9080|v3|reviews.default.svc.cluster.local");
  // The routes belong to the root VirtualService (Istio translates the merged root).
  EXPECT_EQ(vh->routes(0).metadata().filter_metadata().at("istio").fields().at("config").string_value(),
            "/apis/networking.istio.io/v1/namespaces/default/virtual-service/root");
  EXPECT_FALSE(HasWarning(r, "delegate"));
  EXPECT_FALSE(HasWarning(r, "no effect"));
}

TEST(DelegateTest, ConflictingDelegateMatchesDropTheRule) {
  // /v2/x cannot lie within the root's /v1: that delegate rule is dropped, the other kept.
  auto r = CompileFor(
      ParseYaml(Base() + Root() +
                Vs("child", "default",
                   "  http:\n  - match:\n    - uri: {prefix: /v2/x}\n    route:\n    - destination: {host: ratings}\n"
                   "  - match:\n    - uri: {exact: /v1/exact}\n    route:\n    - destination: {host: reviews, subset: v2}\n")),
      kNode);
  const VirtualHost* vh = Reviews(r);
  ASSERT_EQ(vh->routes_size(), 2);
  EXPECT_EQ(vh->routes(0).match().path(), "/v1/exact");
  EXPECT_EQ(vh->routes(0).route().cluster(), "outbound|9080|v2|reviews.default.svc.cluster.local");
  EXPECT_TRUE(HasWarning(r, "VirtualService default/root http[0] (delegate default/child http[0]): its matches conflict"));
}

TEST(DelegateTest, MatchConditionsMergeAndRegexConflicts) {
  auto r = CompileFor(
      ParseYaml(Base() +
                Vs("root", "default",
                   "  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        end-user: {exact: jason}\n"
                   "      uri: {prefix: /api}\n    delegate: {name: child}\n") +
                Vs("child", "default",
                   "  http:\n  - match:\n    - uri: {regex: \"/api/.*\"}\n    route:\n    - destination: {host: ratings}\n"
                   "  - match:\n    - uri: {prefix: /api/b}\n      method: {exact: GET}\n      headers:\n"
                   "        x-b: {exact: \"1\"}\n    route:\n    - destination: {host: reviews, subset: v2}\n")),
      kNode);
  const VirtualHost* vh = Reviews(r);
  // The regex rule conflicts with the root's prefix; the other gets all conditions. As for any
  // VirtualService, no default route is added after it.
  ASSERT_EQ(vh->routes_size(), 1);
  const auto& m = vh->routes(0).match();
  EXPECT_EQ(m.prefix(), "/api/b");
  std::vector<std::string> headers;
  for (const auto& h : m.headers()) headers.push_back(h.name() + "=" + h.string_match().exact());
  std::sort(headers.begin(), headers.end());
  EXPECT_EQ(headers, (std::vector<std::string>{":method=GET", "end-user=jason", "x-b=1"}));
  EXPECT_TRUE(HasWarning(r, "(delegate default/child http[0]): its matches conflict"));
}

TEST(DelegateTest, DestinationsResolveInTheDelegatesNamespace) {
  auto r = CompileFor(ParseYaml(Base() + Root("other") + Child("other")), kNode);
  const VirtualHost* vh = Reviews(r);
  ASSERT_GE(vh->routes_size(), 2);
  EXPECT_EQ(vh->routes(0).route().cluster(), "outbound|9080|v1|reviews.other.svc.cluster.local");
}

TEST(DelegateTest, DelegateMustBeExportedToTheRootsNamespace) {
  auto r = CompileFor(ParseYaml(Base() + Root("other") + Child("other", "  exportTo: [\".\"]\n")), kNode);
  const VirtualHost* vh = Reviews(r);
  ASSERT_EQ(vh->routes_size(), 1);  // the root rule is dropped; its second rule remains
  EXPECT_EQ(vh->routes(0).route().cluster(), "outbound|9080|v3|reviews.default.svc.cluster.local");
  EXPECT_TRUE(HasWarning(r, "delegate VirtualService other/child is not exported to namespace default"));
  // Exported by name, it applies.
  auto ok = CompileFor(ParseYaml(Base() + Root("other") + Child("other", "  exportTo: [default]\n")), kNode);
  EXPECT_EQ(Reviews(ok)->routes(0).route().cluster(), "outbound|9080|v1|reviews.other.svc.cluster.local");
}

TEST(DelegateTest, MissingDelegateAndUnusedDelegateAreReported) {
  auto missing = CompileFor(ParseYaml(Base() + Root()), kNode);
  ASSERT_EQ(Reviews(missing)->routes_size(), 1);
  EXPECT_TRUE(HasWarning(missing, "VirtualService default/root http[0]: delegate VirtualService default/child does not exist"));
  // The model rejects such a config (CheckCrossObjectRules); a compiler given one anyway warns.
  auto unused = CompileFor(ParseYamlPerObject(Base() + Child()), kNode);
  EXPECT_TRUE(HasWarning(unused, "VirtualService default/child: it has no hosts, so it is a delegate, but no "
                                 "VirtualService delegates to it"));
  // A VirtualService with hosts is not a delegate.
  auto with_hosts = CompileFor(ParseYaml(Base() + Root() +
                                         Vs("child", "default",
                                            "  hosts: [ratings]\n  http:\n  - route:\n    - destination: {host: ratings}\n")),
                               kNode);
  EXPECT_TRUE(HasWarning(with_hosts, "VirtualService default/child has hosts, so it is not a delegate"));
}

TEST(DelegateTest, IncrementalCompilerFollowsTheDelegate) {
  auto full = [](const std::string& yaml) {
    return CompileFor(ParseYaml(yaml), kNode);
  };
  std::string error;
  const ProxyNode node = *ParseNodeId(kNode, &error);
  IncrementalCompiler ic;
  ic.Update(std::make_shared<model::ConfigSet>(ParseYaml(Base() + Root() + Child())));
  XdsResources out;
  ic.CompileInto(node, &out);
  EXPECT_EQ(ToJson(*FindRoute(out, "9080")), ToJson(*FindRoute(full(Base() + Root() + Child()), "9080")));

  // Only the delegate's match changes (same destinations): the root's virtual host must follow.
  const std::string changed = Vs("child", "default",
                                 "  http:\n  - match:\n    - uri: {prefix: /v1/z}\n    route:\n"
                                 "    - destination: {host: reviews, subset: v1}\n"
                                 "  - route:\n    - destination: {host: ratings}\n");
  ic.UpsertVirtualService(ParseYamlPerObject(changed).virtual_services.at(0));
  ic.CompileInto(node, &out);
  EXPECT_EQ(Reviews(out)->routes(0).match().prefix(), "/v1/z");
  EXPECT_EQ(ToJson(*FindRoute(out, "9080")), ToJson(*FindRoute(full(Base() + Root() + changed), "9080")));

  // The delegate disappears: the root rule drops.
  EXPECT_TRUE(ic.RemoveVirtualService("default", "child"));
  ic.CompileInto(node, &out);
  ASSERT_EQ(Reviews(out)->routes_size(), 1);
  EXPECT_EQ(ToJson(*FindRoute(out, "9080")), ToJson(*FindRoute(full(Base() + Root()), "9080")));

  // And comes back.
  ic.UpsertVirtualService(ParseYamlPerObject(Child()).virtual_services.at(0));
  ic.CompileInto(node, &out);
  EXPECT_EQ(Reviews(out)->routes_size(), 3);
}

}  // namespace
}  // namespace cmesh::compiler::testing
