// crds/ on the real apiserver: the CRDs establish with Istio's names, Istio's bookinfo documents apply
// unchanged, every VirtualService/DestinationRule that Istio's validation data calls valid is stored
// and read back unchanged under each served version, and .status takes Istio's status shape.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <iterator>
#include <set>
#include <sstream>

#include "kube_env.h"
#include "test_paths.h"
#include "yaml_documents.h"

namespace cmesh::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using nlohmann::json;

const std::vector<std::string> kVersions = {"v1alpha3", "v1beta1", "v1"};

bool Served(const std::string& kind) { return kind == "VirtualService" || kind == "DestinationRule"; }

std::string Plural(const std::string& kind) {
  return kind == "VirtualService" ? "virtualservices" : "destinationrules";
}

json ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j;
}

// The objects of YAML text as kubectl sends them (its own YAML-to-JSON conversion, no server).
std::vector<json> AsSent(const std::string& yaml) {
  CommandResult r = RunKubectl({"create", "--dry-run=client", "-o", "json", "-f", "-"}, yaml);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json j = ParseJson(r.out);
  if (j.value("kind", "") == "List") return j["items"].get<std::vector<json>>();
  return {j};
}

std::vector<std::string> YamlFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class CrdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CMESH_REQUIRE_KUBE();
    ASSERT_EQ(InstallCrds(), "");
  }
};

TEST_F(CrdTest, EstablishWithIstiosNamesVersionsAndSubresources) {
  struct Expected {
    std::string crd, kind, short_name;
  };
  for (const Expected& e : {Expected{"virtualservices.networking.istio.io", "VirtualService", "vs"},
                            Expected{"destinationrules.networking.istio.io", "DestinationRule", "dr"}}) {
    SCOPED_TRACE(e.crd);
    CommandResult r = RunKubectl({"get", "crd", e.crd, "-o", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json crd = ParseJson(r.out);
    EXPECT_EQ(crd["spec"]["group"], "networking.istio.io");
    EXPECT_EQ(crd["spec"]["scope"], "Namespaced");
    EXPECT_EQ(crd["spec"]["names"]["kind"], e.kind);
    EXPECT_EQ(crd["spec"]["names"]["shortNames"], json::array({e.short_name}));
    EXPECT_EQ(crd["spec"]["names"]["categories"], json::array({"istio-io", "networking-istio-io"}));
    std::map<std::string, bool> storage;
    for (const json& v : crd["spec"]["versions"]) {
      EXPECT_TRUE(v["served"].get<bool>()) << v["name"];
      EXPECT_TRUE(v["subresources"].contains("status")) << v["name"];
      storage[v["name"].get<std::string>()] = v["storage"].get<bool>();
    }
    EXPECT_EQ(storage, (std::map<std::string, bool>{{"v1", true}, {"v1alpha3", false}, {"v1beta1", false}}));
    // The server's own verdict: names accepted, established, and no NonStructuralSchema complaint.
    std::map<std::string, std::string> conditions;
    for (const json& c : crd["status"]["conditions"]) conditions[c["type"]] = c["status"];
    EXPECT_EQ(conditions["NamesAccepted"], "True");
    EXPECT_EQ(conditions["Established"], "True");
    EXPECT_EQ(conditions.count("NonStructuralSchema"), 0u) << r.out;
    EXPECT_EQ(crd["status"]["storedVersions"], json::array({"v1"}));
  }
}

// Deletes, at scope exit, objects a test had to create outside its own namespace.
class Cleanup {
 public:
  ~Cleanup() {
    for (const auto& [resource, ns] : objects_) RunKubectl({"delete", resource, "-n", ns, "--ignore-not-found"});
  }
  void Add(const std::string& resource, const std::string& ns) { objects_.insert({resource, ns}); }

 private:
  std::set<std::pair<std::string, std::string>> objects_;
};

TEST_F(CrdTest, BookinfoNetworkingAppliesUnchangedAndReadsBackUnchanged) {
  CMESH_REQUIRE_CORPUS(corpus);
  KubeNamespace ns;
  ASSERT_EQ(ns.error(), "");
  Cleanup cleanup;
  int applied = 0;
  std::set<std::string> skipped_kinds;
  for (const std::string& file : YamlFiles(corpus + "/istio/bookinfo/networking")) {
    SCOPED_TRACE(file);
    for (const std::string& doc : SplitYamlDocuments(ReadFile(file))) {
      std::string kind = YamlScalar(doc, {"kind"});
      if (!Served(kind)) {
        skipped_kinds.insert(kind);  // Gateway, ServiceEntry: kinds cmesh does not serve
        continue;
      }
      std::vector<json> sent_objects = AsSent(doc);
      ASSERT_EQ(sent_objects.size(), 1u);
      const json& sent = sent_objects[0];
      const std::string name = sent["metadata"]["name"];
      const std::string resource = Plural(kind) + ".networking.istio.io/" + name;
      // The document's own text, unchanged. Most name no namespace and go to the test's; one names
      // istio-system, so it goes there (created if needed) and is deleted at the end.
      std::vector<std::string> apply = {"apply", "--validate=strict", "-f", "-"};
      std::string target = YamlScalar(doc, {"metadata", "namespace"});
      if (target.empty()) {
        target = ns.name();
        apply.insert(apply.end(), {"-n", target});
      } else {
        RunKubectl({"create", "namespace", target});  // AlreadyExists is fine
        cleanup.Add(resource, target);
      }
      // Several files reuse names (reviews, ratings, ...): the later apply updates the object.
      CommandResult r = RunKubectl(apply, doc);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.err, "") << "warnings";
      r = RunKubectl({"get", resource, "-n", target, "-o", "json"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      json got = ParseJson(r.out);
      EXPECT_EQ(got["apiVersion"], sent["apiVersion"]);
      EXPECT_EQ(got["spec"], sent["spec"]) << name << ": sent " << sent["spec"].dump() << "\nread back "
                                           << got["spec"].dump();
      ++applied;
    }
  }
  EXPECT_GT(applied, 0);
  EXPECT_EQ(skipped_kinds.count("VirtualService") + skipped_kinds.count("DestinationRule"), 0u);

  // Short names, Istio's printer columns, and the istio-io category.
  CommandResult r = RunKubectl({"get", "vs", "bookinfo", "-n", ns.name()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string header = r.out.substr(0, r.out.find('\n'));
  std::istringstream columns(header);
  std::vector<std::string> names{std::istream_iterator<std::string>(columns), {}};
  EXPECT_THAT(names, ElementsAre("NAME", "GATEWAYS", "HOSTS", "AGE"));
  // bookinfo-gateway.yaml: gateways [bookinfo-gateway], hosts ["*"].
  EXPECT_THAT(r.out, HasSubstr("[\"bookinfo-gateway\"]"));
  EXPECT_THAT(r.out, HasSubstr("[\"*\"]"));
  r = RunKubectl({"get", "dr", "reviews", "-n", ns.name()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream dr_columns(r.out.substr(0, r.out.find('\n')));
  names.assign(std::istream_iterator<std::string>(dr_columns), {});
  EXPECT_THAT(names, ElementsAre("NAME", "HOST", "AGE"));
  r = RunKubectl({"get", "istio-io", "-n", ns.name(), "-o", "name"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("virtualservice.networking.istio.io/reviews\n"));
  EXPECT_THAT(r.out, HasSubstr("destinationrule.networking.istio.io/reviews\n"));
}

// Creates each object under each of the three versions and reads all of them back under each:
// the server must keep every field (strict field validation would also refuse a field the schema
// lacks). Several documents may share a name: each copy gets its own.
void ExpectRoundTripUnderEveryVersion(const std::vector<json>& docs, const std::string& ns) {
  json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array()}};
  std::map<std::string, const json*> sent_by_name;
  for (const std::string& version : kVersions) {
    for (size_t i = 0; i < docs.size(); ++i) {
      json object = docs[i];
      std::string name = (object["kind"] == "VirtualService" ? "vs-" : "dr-") + std::to_string(i) + "-" + version;
      object["apiVersion"] = "networking.istio.io/" + version;
      object["metadata"]["name"] = name;
      object["metadata"]["namespace"] = ns;
      sent_by_name[name] = &docs[i];
      list["items"].push_back(std::move(object));
    }
  }
  CommandResult r = RunKubectl({"create", "--validate=strict", "-f", "-"}, list.dump());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  for (const std::string& version : kVersions) {
    SCOPED_TRACE("read as " + version);
    r = RunKubectl({"get",
                    "virtualservices." + version + ".networking.istio.io,destinationrules." + version +
                        ".networking.istio.io",
                    "-n", ns, "-o", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json items = ParseJson(r.out)["items"];
    ASSERT_EQ(items.size(), sent_by_name.size());
    for (const json& got : items) {
      std::string name = got["metadata"]["name"];
      ASSERT_EQ(sent_by_name.count(name), 1u) << name;
      EXPECT_EQ(got["apiVersion"], "networking.istio.io/" + version) << name;
      EXPECT_EQ(got["spec"], (*sent_by_name[name])["spec"])
          << name << ": sent " << (*sent_by_name[name])["spec"].dump() << "\nread back " << got["spec"].dump();
    }
  }
}

std::vector<json> ServedDocuments(const std::string& text) {
  std::vector<json> docs;
  for (const std::string& doc : SplitYamlDocuments(text)) {
    if (!Served(YamlScalar(doc, {"kind"}))) continue;
    for (json& sent : AsSent(doc)) docs.push_back(std::move(sent));
  }
  return docs;
}

// Istio's validation data set: every document it calls valid (the files without "invalid" in
// their name).
TEST_F(CrdTest, ValidCorpusDocumentsRoundTripUnderEveryVersion) {
  CMESH_REQUIRE_CORPUS(corpus);
  KubeNamespace ns;
  ASSERT_EQ(ns.error(), "");
  std::vector<json> docs;
  for (const std::string& file : YamlFiles(corpus + "/istio/validation")) {
    if (std::filesystem::path(file).filename().string().find("invalid") != std::string::npos) continue;
    for (json& d : ServedDocuments(ReadFile(file))) docs.push_back(std::move(d));
  }
  std::set<std::string> kinds;
  for (const json& d : docs) kinds.insert(d["kind"]);
  ASSERT_THAT(kinds, UnorderedElementsAre("VirtualService", "DestinationRule"));
  ExpectRoundTripUnderEveryVersion(docs, ns.name());
}

// Every field cmesh's model decodes (testdata/all-model-fields.yaml, which the model accepts).
TEST_F(CrdTest, EveryModelFieldRoundTripsUnderEveryVersion) {
  KubeNamespace ns;
  ASSERT_EQ(ns.error(), "");
  std::vector<json> docs = ServedDocuments(ReadFile(SourceDir() + "/test/kube/testdata/all-model-fields.yaml"));
  ASSERT_EQ(docs.size(), 5u);
  ExpectRoundTripUnderEveryVersion(docs, ns.name());
}

TEST_F(CrdTest, StatusSubresourceTakesIstiosStatusShape) {
  KubeNamespace ns;
  ASSERT_EQ(ns.error(), "");
  CommandResult r = RunKubectl({"create", "-n", ns.name(), "-f", "-"}, R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Istio writes observedGeneration as protobuf JSON's int64 (a string) at the top and as an
  // integer in conditions; a message may carry fields of a newer Istio.
  json status = json::parse(R"({
    "conditions": [{"type": "Reconciled", "status": "True", "reason": "Accepted", "message": "in sync",
                    "lastTransitionTime": "2026-01-02T03:04:05Z", "observedGeneration": 1}],
    "validationMessages": [{"type": {"code": "IST0101", "name": "ReferencedResourceNotFound"},
                            "level": "ERROR",
                            "documentationUrl": "https://istio.io/latest/docs/reference/config/analysis/ist0101/",
                            "analyzer": "cmesh"}],
    "observedGeneration": "1"})");
  r = RunKubectl({"patch", "virtualservice.networking.istio.io/reviews", "-n", ns.name(), "--subresource=status",
                  "--type=merge", "-p", json{{"status", status}}.dump()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunKubectl({"get", "virtualservice.networking.istio.io/reviews", "-n", ns.name(), "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json got = ParseJson(r.out);
  EXPECT_EQ(got["status"], status);
  EXPECT_EQ(got["metadata"]["generation"], 1);

  // With the subresource, the main resource ignores .status and the status endpoint ignores .spec.
  r = RunKubectl({"patch", "virtualservice.networking.istio.io/reviews", "-n", ns.name(), "--type=merge", "-p",
                  R"({"status": {"observedGeneration": "99"}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunKubectl({"get", "virtualservice.networking.istio.io/reviews", "-n", ns.name(), "-o",
                  "jsonpath={.status.observedGeneration}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1");
}

// The schema types every field: wrong types, unknown fields and broken one-ofs are refused by the
// server itself, so what it stores is what cmesh's decoders expect.
TEST_F(CrdTest, TypeErrorsUnknownFieldsAndAmbiguousMatchesAreRejected) {
  KubeNamespace ns;
  ASSERT_EQ(ns.error(), "");
  struct Case {
    std::string yaml, error;
  };
  const std::vector<Case> cases = {
      {R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: weight-not-a-number}
spec:
  hosts: [a]
  http:
  - route:
    - destination: {host: a}
      weight: heavy
)",
       "spec.http[0].route[0].weight"},
      {R"(
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: unknown-field}
spec:
  hosts: [a]
  http:
  - bogus: true
    route:
    - destination: {host: a}
)",
       "unknown field \"spec.http[0].bogus\""},
      {R"(
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: exact-and-prefix}
spec:
  hosts: [a]
  http:
  - match:
    - uri: {exact: /a, prefix: /b}
    route:
    - destination: {host: a}
)",
       "spec.http[0].match[0].uri"},
      {R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: no-host}
spec:
  subsets:
  - name: v1
)",
       "spec.host: Required value"},
      {R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: bad-enum}
spec:
  host: a
  trafficPolicy:
    loadBalancer: {simple: FASTEST}
)",
       "spec.trafficPolicy.loadBalancer.simple: Unsupported value: \"FASTEST\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    CommandResult r = RunKubectl({"create", "--validate=strict", "-n", ns.name(), "-f", "-"}, c.yaml);
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.err, HasSubstr(c.error));
  }
  CommandResult r = RunKubectl({"get", "vs,dr", "-n", ns.name(), "-o", "name"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace cmesh::testing
