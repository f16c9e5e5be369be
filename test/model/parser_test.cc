// Decoding: document handling, every kind, every field of the specs, and error reporting.
#include "cmesh/model/parser.h"
#include "cmesh/model/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace cmesh::model {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Dump(const ParseResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += d.ToString() + "\n";
  return out;
}

std::vector<const Diagnostic*> Errors(const ParseResult& r) {
  std::vector<const Diagnostic*> out;
  for (const auto& d : r.diagnostics) {
    if (d.severity == Severity::kError) out.push_back(&d);
  }
  return out;
}

constexpr const char* kValidVs = R"yaml(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: good
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
)yaml";

TEST(ParserTest, SeveralErrorsInOneDocumentAreAllReported) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: multi, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - timeout: 0s
    retries: {attempts: -2}
    route:
    - destination: {host: '*'}
      weight: -5
    - destination: {host: reviews}
      weight: 5
)yaml",
                                 "multi.yaml");
  auto errors = Errors(r);
  std::set<std::string> fields;
  for (auto* e : errors) fields.insert(e->field);
  EXPECT_EQ(fields, (std::set<std::string>{"spec.http[0].timeout", "spec.http[0].retries.attempts",
                                           "spec.http[0].route[0].destination.host",
                                           "spec.http[0].route[0].weight"}))
      << Dump(r);
  EXPECT_TRUE(r.config.virtual_services.empty());
  // Each error points at the line of its field (a missing field: its closest parent).
  std::map<std::string, int> lines;
  for (auto* e : errors) lines[e->field] = e->object.line;
  EXPECT_EQ(lines["spec.http[0].timeout"], 7);
  EXPECT_EQ(lines["spec.http[0].retries.attempts"], 8);
  EXPECT_EQ(lines["spec.http[0].route[0].destination.host"], 10);
  EXPECT_EQ(lines["spec.http[0].route[0].weight"], 11);
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0]->ToString(), StartsWith("multi.yaml:"));
  EXPECT_THAT(errors[0]->ToString(), HasSubstr(": error: VirtualService shop/multi: spec.http[0]."));
}

TEST(ParserTest, DecodingAndValidationErrorsAreReportedTogether) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: both}
spec:
  hosts: reviews
  http:
  - timeout: 0s
    route:
    - destination: {host: reviews}
      weight: "x"
)yaml",
                                 "both.yaml");
  std::set<std::string> fields;
  for (auto* e : Errors(r)) fields.insert(e->field);
  // hosts has a type error; the validator's "hosts required" would only repeat it, so it is
  // dropped; the timeout, unrelated, is still reported.
  EXPECT_EQ(fields, (std::set<std::string>{"spec.hosts", "spec.http[0].route[0].weight",
                                           "spec.http[0].timeout"}))
      << Dump(r);
  for (auto* e : Errors(r)) {
    if (e->field == "spec.hosts") {
      EXPECT_THAT(e->message, HasSubstr("expected a list"));
    }
  }
}

TEST(ParserTest, ValidateCanBeCalledOnItsOwn) {
  VirtualService vs;
  vs.meta.name = "direct";
  vs.meta.ns = "shop";
  vs.origin = Origin{"api", 7, 0};
  vs.hosts = {"reviews"};
  HTTPRoute& h = vs.http.emplace_back();
  h.route.push_back(HTTPRouteDestination{Destination{"reviews", "", std::nullopt}, 0, {}});
  h.route.push_back(HTTPRouteDestination{Destination{"reviews", "v2", std::nullopt}, 0, {}});
  std::vector<Diagnostic> diags = Validate(vs);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].ToString(),
            "api:7: error: VirtualService shop/direct: spec.http[0].route: Invalid value: total "
            "weight of the destinations must be greater than 0");
  h.route[1].weight = 1;
  EXPECT_TRUE(Validate(vs).empty());
}

TEST(ParserTest, TypeErrorsAndUnknownFieldsAreAllReported) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: typos}
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: many, conectTimeout: 1s}
  subsets:
  - name: v1
    labels: {version: 1}
)yaml",
                                 "t.yaml");
  std::set<std::string> fields;
  for (auto* e : Errors(r)) fields.insert(e->field);
  EXPECT_EQ(fields, (std::set<std::string>{
                        "spec.trafficPolicy.connectionPool.tcp.maxConnections",
                        "spec.trafficPolicy.connectionPool.tcp.conectTimeout",
                        "spec.subsets[0].labels[version]"}))
      << Dump(r);
}

TEST(ParserTest, InvalidObjectDoesNotTakeDownItsNeighbours) {
  std::string text = std::string(kValidVs) + R"yaml(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {subset: v1}
)yaml";
  ParseResult r = ParseDocuments(text, "mixed.yaml");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.config.virtual_services.size(), 1u);
  EXPECT_EQ(r.config.virtual_services[0].meta.name, "good");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u) << Dump(r);
  EXPECT_EQ(errors[0]->object.name, "bad");
  // The second document starts after the "---" on line 10; its destination is on line 18.
  EXPECT_EQ(errors[0]->object.line, 18);
  EXPECT_EQ(r.config.virtual_services[0].origin.line, 1);
}

TEST(ParserTest, MalformedYamlNamesFileAndLineAndKeepsOtherDocuments) {
  std::string text = std::string(kValidVs) +  // lines 1-9
                     "---\n"                   // line 10
                     "apiVersion: v1\n"        // line 11
                     "kind: Service\n"         // line 12
                     "metadata:\n"             // line 13
                     "  name: [unclosed\n"     // line 14
                     "spec: {}\n"              // line 15
                     "---\n"
                     "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
  ParseResult r = ParseDocuments(text, "broken.yaml");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u) << Dump(r);
  EXPECT_EQ(errors[0]->object.file, "broken.yaml");
  EXPECT_GE(errors[0]->object.line, 14);
  EXPECT_LE(errors[0]->object.line, 16);
  EXPECT_THAT(errors[0]->message, HasSubstr("malformed YAML"));
  EXPECT_THAT(errors[0]->ToString(), StartsWith("broken.yaml:1"));
  EXPECT_EQ(r.config.virtual_services.size(), 1u);
  ASSERT_EQ(r.config.namespaces.size(), 1u);
  EXPECT_EQ(r.config.namespaces[0].meta.name, "shop");
}

TEST(ParserTest, BadIndentationIsMalformed) {
  ParseResult r = ParseDocuments("apiVersion: v1\nkind: Service\n metadata: x\n  bad: - y\n",
                                 "indent.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics[0].object.file, "indent.yaml");
  EXPECT_GT(r.diagnostics[0].object.line, 0);
}

TEST(ParserTest, JsonDocument) {
  ParseResult r = ParseDocuments(R"yaml({
  "apiVersion": "networking.istio.io/v1alpha3",
  "kind": "DestinationRule",
  "metadata": {"name": "reviews", "namespace": "shop"},
  "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}
})yaml",
                                 "dr.json");
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r);
  ASSERT_EQ(r.config.destination_rules.size(), 1u);
  EXPECT_EQ(r.config.destination_rules[0].meta.ns, "shop");
  EXPECT_EQ(r.config.destination_rules[0].api_version, "networking.istio.io/v1alpha3");
}

TEST(ParserTest, MalformedJsonNamesTheLine) {
  ParseResult r = ParseDocuments("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Service\"\n  \"x\": 1\n}\n",
                                 "bad.json");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u) << Dump(r);
  EXPECT_EQ(errors[0]->object.line, 4);
  EXPECT_THAT(errors[0]->message, HasSubstr("malformed JSON"));
}

TEST(ParserTest, ListItemsAreDecoded) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
  spec: {ports: [{port: 80}]}
- apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: {name: a}
  spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: a}
)yaml",
                                 "list.yaml");
  EXPECT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.services.size(), 1u);
  EXPECT_EQ(r.config.virtual_services.size(), 1u);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].severity, Severity::kWarning);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("Deployment is not supported yet; ignored"));
}

TEST(ParserTest, ListItemErrorsPointAtTheItemsLines) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: a}
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: b}
  spec:
    host: b
    subsets:
    - name: Bad
)yaml",
                                 "list.yaml");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u) << Dump(r);
  EXPECT_EQ(errors[0]->field, "spec.subsets[0].name");
  EXPECT_EQ(errors[0]->object.line, 13);
  EXPECT_EQ(errors[0]->object.name, "b");
}

TEST(ParserTest, UnsupportedKindsOnlyWarn) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec: {whatever: 1}
)yaml",
                                 "sidecar.yaml");
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].ToString(),
            "sidecar.yaml:1: warning: Sidecar shop/default: networking.istio.io/v1 Sidecar is not "
            "supported yet; ignored");
}

TEST(ParserTest, UnknownNetworkingVersionIsAnError) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: networking.istio.io/v2
kind: VirtualService
metadata: {name: future}
spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}
)yaml",
                                 "v2.yaml");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->field, "apiVersion");
  EXPECT_TRUE(r.config.virtual_services.empty());
}

TEST(ParserTest, MissingKindIsAnError) {
  ParseResult r = ParseDocuments("apiVersion: v1\nmetadata: {name: x}\n", "nokind.yaml");
  ASSERT_EQ(Errors(r).size(), 1u);
  EXPECT_EQ(Errors(r)[0]->field, "kind");
}

TEST(ParserTest, UnknownTopLevelFieldsAreIgnored) {
  std::string text = "_err: 'not for us'\n" + std::string(kValidVs) + "status: {observedGeneration: 3}\n";
  ParseResult r = ParseDocuments(text, "top.yaml");
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r);
  EXPECT_EQ(r.config.virtual_services.size(), 1u);
}

TEST(ParserTest, EmptyDocumentsAreSkipped) {
  ParseResult r = ParseDocuments("---\n# only a comment\n---\n" + std::string(kValidVs) + "---\n",
                                 "e.yaml");
  EXPECT_TRUE(r.diagnostics.empty()) << Dump(r);
  ASSERT_EQ(r.config.virtual_services.size(), 1u);
  EXPECT_EQ(r.config.virtual_services[0].origin.line, 4);
}

TEST(ParserTest, ContentHashIsStableAndCanonical) {
  ParseResult a = ParseDocuments(kValidVs, "a.yaml");
  // Same content, other key order and flow style, and JSON: same hash.
  ParseResult b = ParseDocuments(R"yaml(kind: VirtualService
spec:
  http: [{route: [{destination: {host: "reviews"}}]}]
  hosts: ["reviews"]
metadata: {name: good}
apiVersion: networking.istio.io/v1beta1
)yaml",
                                 "b.yaml");
  ParseResult c = ParseDocuments(
      R"yaml({"apiVersion":"networking.istio.io/v1beta1","kind":"VirtualService","metadata":{"name":"good"},)yaml"
      R"yaml("spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews"}}]}]}})yaml",
      "c.json");
  std::string changed = kValidVs;
  changed.replace(changed.find("name: good"), 10, "name: gooe");
  ParseResult d = ParseDocuments(changed, "d.yaml");
  ASSERT_EQ(a.config.virtual_services.size(), 1u);
  ASSERT_EQ(b.config.virtual_services.size(), 1u);
  ASSERT_EQ(c.config.virtual_services.size(), 1u);
  ASSERT_EQ(d.config.virtual_services.size(), 1u);
  uint64_t h = a.config.virtual_services[0].origin.content_hash;
  EXPECT_NE(h, 0u);
  EXPECT_EQ(b.config.virtual_services[0].origin.content_hash, h);
  EXPECT_EQ(c.config.virtual_services[0].origin.content_hash, h);
  EXPECT_NE(d.config.virtual_services[0].origin.content_hash, h);
  // No per-process seed: the value is FNV-1a 64 of the canonical JSON (sorted keys, no spaces),
  // computed independently with Python's json.dumps(sort_keys=True, separators=(',', ':')).
  EXPECT_EQ(h, 1052884863527322890ULL);
}

TEST(ParserTest, MetadataDefaults) {
  ParseResult r = ParseDocuments(kValidVs, "");
  ASSERT_EQ(r.config.virtual_services.size(), 1u);
  const VirtualService& vs = r.config.virtual_services[0];
  EXPECT_EQ(vs.meta.ns, "default");
  EXPECT_EQ(vs.origin.file, "<inline>");
  EXPECT_EQ(vs.origin.line, 1);
}

TEST(ParserTest, WarningsDoNotRejectTheObject) {
  ParseResult r = ParseDocuments(R"yaml(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: warn}
spec:
  hosts: [reviews]
  http:
  - fault:
      abort: {percentage: {value: 5}}
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /never}}]
    route: [{destination: {host: reviews}}]
)yaml",
                                 "warn.yaml");
  EXPECT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.virtual_services.size(), 1u);
  std::set<std::string> fields;
  for (const auto& d : r.diagnostics) {
    EXPECT_EQ(d.severity, Severity::kWarning);
    fields.insert(d.field);
  }
  // An abort without a status (Istio warns), and a rule after a catch-all (unreachable).
  EXPECT_EQ(fields, (std::set<std::string>{"spec.http[0].fault.abort", "spec.http[1]"}));
}

}  // namespace
}  // namespace cmesh::model
