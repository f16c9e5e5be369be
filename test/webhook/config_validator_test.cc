// /validate on Istio's own samples: bookinfo's VirtualServices and DestinationRules are allowed,
// the validation data set's invalid ones denied naming the field Istio names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <sstream>

#include "cmesh/webhook/config_validator.h"
#include "cmesh/webhook/webhook_http.h"
#include "test_paths.h"

namespace cmesh::webhook {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// YAML → JSON, plain scalars typed (numbers, booleans, null), quoted ones kept as strings: what
// kubectl sends the apiserver for these files.
json ToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    json out = json::object();
    for (const auto& e : node) out[e.first.as<std::string>()] = ToJson(e.second);
    return out;
  }
  if (node.IsSequence()) {
    json out = json::array();
    for (const auto& e : node) out.push_back(ToJson(e));
    return out;
  }
  if (!node.IsScalar()) return nullptr;
  const std::string s = node.Scalar();
  if (node.Tag() != "?") return s;
  if (s == "true" || s == "false") return s == "true";
  if (s == "null" || s == "~") return nullptr;
  try {
    std::size_t used = 0;
    long long i = std::stoll(s, &used);
    if (used == s.size()) return i;
    double d = std::stod(s, &used);
    if (used == s.size()) return d;
  } catch (const std::exception&) {
  }
  return s;
}

std::vector<json> Documents(const std::string& path) {
  std::vector<json> out;
  for (const YAML::Node& doc : YAML::LoadAll(cmesh::testing::ReadFile(path))) {
    if (doc.IsMap()) out.push_back(ToJson(doc));
  }
  return out;
}

std::string Review(const json& object, const std::string& operation = "CREATE", const std::string& ns = "default") {
  const std::string api_version = object.value("apiVersion", "networking.istio.io/v1");
  const std::string kind = object.value("kind", "VirtualService");
  json request = {{"uid", "uid-v"},
                  {"kind",
                   {{"group", api_version.substr(0, api_version.find('/'))},
                    {"version", api_version.substr(api_version.find('/') + 1)},
                    {"kind", kind}}},
                  {"namespace", ns},
                  {"name", object["metadata"].value("name", "")},
                  {"operation", operation}};
  if (operation == "DELETE") {
    request["oldObject"] = object;
    request["object"] = nullptr;
  } else {
    request["object"] = object;
  }
  return json({{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", request}}).dump();
}

json Validate(const json& object, const std::string& operation = "CREATE") {
  Injector unused(InjectorConfig(), nullptr);
  HttpAnswer answer = ServeWebhook(unused, "POST", "/validate?timeout=10s", Review(object, operation));
  EXPECT_EQ(answer.status, 200) << answer.body;
  json review = json::parse(answer.body);
  EXPECT_EQ(review["response"]["uid"], "uid-v");
  return review["response"];
}

bool IsRoutingKind(const json& doc) {
  return doc.value("kind", "") == "VirtualService" || doc.value("kind", "") == "DestinationRule";
}

TEST(ConfigValidatorTest, BookinfoSamplesAreAllowed) {
  CMESH_REQUIRE_CORPUS(corpus);
  int checked = 0;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(corpus + "/istio/bookinfo/networking")) {
    files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    for (const json& doc : Documents(file)) {
      if (!IsRoutingKind(doc)) continue;
      const json response = Validate(doc);
      EXPECT_EQ(response["allowed"], true) << file << ": " << response.dump();
      ++checked;
    }
  }
  // `grep -c 'kind: VirtualService\|kind: DestinationRule'` over the folder counts 35 documents.
  EXPECT_EQ(checked, 35);
}

TEST(ConfigValidatorTest, ValidationDataSetValidObjectsAreAllowedInEveryVersion) {
  CMESH_REQUIRE_CORPUS(corpus);
  int checked = 0;
  for (const char* name : {"destinationrule-valid.yaml", "networking-v1alpha3-VirtualService.yaml",
                           "networking-v1beta1-VirtualService.yaml", "networking-v1-VirtualService.yaml",
                           "networking-v1alpha3-DestinationRule.yaml", "networking-v1beta1-DestinationRule.yaml",
                           "networking-v1-DestinationRule.yaml"}) {
    for (const json& doc : Documents(corpus + "/istio/validation/" + name)) {
      EXPECT_EQ(Validate(doc)["allowed"], true) << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 + 6);
}

// Each document of destinationrule-invalid.yaml carries Istio's expected error in `_err` as
// "FIELD: reason"; the denial must carry that field and reason.
TEST(ConfigValidatorTest, ValidationDataSetInvalidObjectsAreDeniedNamingTheField) {
  CMESH_REQUIRE_CORPUS(corpus);
  int checked = 0;
  for (json doc : Documents(corpus + "/istio/validation/destinationrule-invalid.yaml")) {
    ASSERT_TRUE(doc.contains("_err"));
    const std::string expected = doc["_err"];
    doc.erase("_err");  // the data set's annotation, not part of the object
    const json response = Validate(doc);
    EXPECT_EQ(response["allowed"], false) << expected;
    EXPECT_EQ(response["status"]["code"], 400);
    const std::string message = response["status"]["message"];
    EXPECT_THAT(message, HasSubstr("configuration is invalid: "));
    EXPECT_THAT(message, HasSubstr(expected)) << message;
    // Updates are judged the same way; deletes never are.
    EXPECT_EQ(Validate(doc, "UPDATE")["allowed"], false);
    EXPECT_EQ(Validate(doc, "DELETE")["allowed"], true);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(ConfigValidatorTest, InvalidVirtualServicesAreDeniedWithEveryField) {
  const json vs = json::parse(R"({"apiVersion":"networking.istio.io/v1beta1","kind":"VirtualService",
    "metadata":{"name":"reviews"},
    "spec":{"hosts":["reviews"],"http":[{"timeout":"soon","route":[
      {"destination":{"host":"reviews","subset":"v1"},"weight":-1},
      {"destination":{"host":"reviews","subset":"v2"},"weight":101}]}]}})");
  const json response = Validate(vs);
  EXPECT_EQ(response["allowed"], false);
  const std::string message = response["status"]["message"];
  // Every problem in one answer, each naming its field.
  EXPECT_THAT(message, HasSubstr("spec.http[0].timeout: "));
  EXPECT_THAT(message, HasSubstr("spec.http[0].route[0].weight: Invalid value"));
  // An unknown field is refused as Istio's strict decoding refuses it.
  json typo = vs;
  typo["spec"] = json::parse(R"({"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews","subst":"v1"}}]}]})");
  EXPECT_THAT(Validate(typo)["status"]["message"].get<std::string>(),
              HasSubstr("spec.http[0].route[0].destination.subst: unknown field"));
}

TEST(ConfigValidatorTest, ServerSideFieldsAndMissingNamespaceAreFine) {
  json dr = json::parse(R"({"apiVersion":"networking.istio.io/v1","kind":"DestinationRule",
    "metadata":{"name":"reviews","uid":"1","resourceVersion":"5","generation":2,"creationTimestamp":"2026-01-01T00:00:00Z",
                "managedFields":[{"manager":"kubectl"}]},
    "spec":{"host":"reviews","subsets":[{"name":"v1","labels":{"version":"v1"}}]},
    "status":{"conditions":[]}})");
  EXPECT_EQ(Validate(dr)["allowed"], true);
  dr["spec"]["subsets"][0]["name"] = "V_1";
  const auto diagnostics = ValidateObject(dr, "prod");
  ASSERT_FALSE(diagnostics.empty());
  EXPECT_EQ(diagnostics[0].object.ns, "prod");  // from request.namespace
  EXPECT_EQ(diagnostics[0].object.name, "reviews");
  EXPECT_EQ(diagnostics[0].field, "spec.subsets[0].name");
}

TEST(ConfigValidatorTest, HostlessVirtualServiceIsJudgedAsADelegate) {
  // Istio's webhook accepts it: the root that delegates to it may come later.
  const json delegate = json::parse(R"({"apiVersion":"networking.istio.io/v1","kind":"VirtualService",
    "metadata":{"name":"reviews-delegate"},"spec":{"http":[{"route":[{"destination":{"host":"reviews"}}]}]}})");
  EXPECT_EQ(Validate(delegate)["allowed"], true);
  json with_gateways = delegate;
  with_gateways["spec"]["gateways"] = {"mesh"};  // what a delegate may not have
  EXPECT_EQ(Validate(with_gateways)["allowed"], false);
}

TEST(ConfigValidatorTest, OtherKindsAndDeletesAreAllowed) {
  const json gateway = json::parse(R"({"apiVersion":"networking.istio.io/v1","kind":"Gateway",
    "metadata":{"name":"g"},"spec":{"nonsense":true}})");
  EXPECT_EQ(Validate(gateway)["allowed"], true);
  const json broken = json::parse(R"({"apiVersion":"networking.istio.io/v1","kind":"VirtualService",
    "metadata":{"name":"x"},"spec":{"hosts":7}})");
  EXPECT_EQ(Validate(broken)["allowed"], false);
  EXPECT_EQ(Validate(broken, "DELETE")["allowed"], true);
}

}  // namespace
}  // namespace cmesh::webhook
