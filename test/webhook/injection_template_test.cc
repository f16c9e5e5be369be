// The template language: placeholders filled in the parsed tree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/webhook/injection_template.h"
#include "test_paths.h"

namespace cmesh::webhook {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

json Render(const std::string& yaml, const json& values, std::string* error) {
  auto t = InjectionTemplate::Parse(yaml, error);
  if (!t) return json("parse error");
  auto out = t->Render(values, error);
  return out ? *out : json("render error");
}

TEST(InjectionTemplateTest, TypesPlainScalarsAndKeepsQuotedOnesStrings) {
  std::string error;
  json out = Render("a: 1\nb: \"1\"\nc: true\nd: 'true'\ne: ~\nf: 1.5\ng: text\n", json::object(), &error);
  EXPECT_EQ(out, json::parse(R"({"a":1,"b":"1","c":true,"d":"true","e":null,"f":1.5,"g":"text"})")) << error;
}

TEST(InjectionTemplateTest, FillsTextAndWholeValues) {
  std::string error;
  const json values = {{"Image", "hub/proxy:1"},
                       {"Res", {{"limits", {{"cpu", "1"}}}}},
                       {"Args", {"--a", "1"}},
                       {"None", json::array()},
                       {"N", 3}};
  json out = Render(R"(
image: "{{ .Image }}"
where: "x-{{.Image}}-{{ .N }}"
resources: "{{ .Res }}"
args: ["--first", "{{ .Args }}", "--last", "{{ .None }}"]
whole: "{{ .Args }}"
n: "{{ .N }}"
)",
                    values, &error);
  EXPECT_EQ(out["image"], "hub/proxy:1") << error;
  EXPECT_EQ(out["where"], "x-hub/proxy:1-3");
  EXPECT_EQ(out["resources"], values["Res"]);
  // A list placeholder inside a sequence is spliced; an empty one leaves nothing.
  EXPECT_EQ(out["args"], json::parse(R"(["--first","--a","1","--last"])"));
  EXPECT_EQ(out["whole"], json::parse(R"(["--a","1"])"));
  EXPECT_EQ(out["n"], 3);
}

TEST(InjectionTemplateTest, ValuesCannotBreakTheStructure) {
  std::string error;
  // A value full of YAML syntax stays one string: the template was parsed before filling.
  json out = Render("v: \"{{ .X }}\"\n", {{"X", "a\nb: [c]\n- d"}}, &error);
  EXPECT_EQ(out, json({{"v", "a\nb: [c]\n- d"}})) << error;
}

TEST(InjectionTemplateTest, ErrorsNameTheProblem) {
  std::string error;
  EXPECT_EQ(Render("a: \"{{ .Nope }}\"\n", json::object(), &error), "render error");
  EXPECT_THAT(error, HasSubstr("unknown template value {{ .Nope }} at template.a"));
  EXPECT_EQ(Render("a: [\"x {{ .L }}\"]\n", {{"L", {1}}}, &error), "render error");
  EXPECT_THAT(error, HasSubstr("cannot be part of the text at template.a[0]"));
  EXPECT_EQ(Render("a: \"{{ Image }}\"\n", json::object(), &error), "render error");
  EXPECT_THAT(error, HasSubstr("malformed placeholder"));
  EXPECT_EQ(Render("a: [\n", json::object(), &error), "parse error");
  EXPECT_THAT(error, HasSubstr("injection template"));
  EXPECT_EQ(Render("- a\n", json::object(), &error), "parse error");
  EXPECT_THAT(error, HasSubstr("top level must be a mapping"));
}

TEST(InjectionTemplateTest, DefaultTemplateIsTheShippedFile) {
  EXPECT_EQ(DefaultInjectionTemplate(), cmesh::testing::ReadFile(cmesh::testing::SourceDir() + "/webhook/injection-template.yaml"));
  EXPECT_THAT(DefaultInjectionTemplate(), HasSubstr("name: cmesh-proxy"));
  EXPECT_THAT(DefaultInjectionTemplate(), HasSubstr("name: cmesh-init"));
  std::string error;
  EXPECT_TRUE(InjectionTemplate::Parse(DefaultInjectionTemplate(), &error)) << error;
}

}  // namespace
}  // namespace cmesh::webhook
