// The --injection-config file: values and policy overlay the defaults; mistakes name the field.
#include "cmesh/webhook/injector_config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cmesh::webhook {
namespace {

using ::testing::HasSubstr;

TEST(InjectorConfigFileTest, ValuesAndPolicyOverlayTheDefaults) {
  InjectorConfig defaults;
  defaults.pilot_address = "keep:15010";
  std::string error;
  auto config = ParseInjectorConfig(R"(
values:
  proxyImage: registry.example/cmesh/proxy:0.1.0
  concurrency: 4
  preStopSleepSeconds: 0
  imagePullSecrets: [pull-a, pull-b]
  proxyResources: {requests: {cpu: 50m}}
policy:
  revision: canary
  excludedNamespaces: [istio-system]
)", "config.yaml", defaults, &error);
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->proxy_image, "registry.example/cmesh/proxy:0.1.0");
  EXPECT_EQ(config->concurrency, 4);
  EXPECT_EQ(config->pre_stop_sleep_seconds, 0);
  EXPECT_EQ(config->image_pull_secrets, (std::vector<std::string>{"pull-a", "pull-b"}));
  EXPECT_EQ(config->proxy_resources["requests"]["cpu"], "50m");
  EXPECT_EQ(config->policy.revision, "canary");
  EXPECT_EQ(config->policy.excluded_namespaces, (std::vector<std::string>{"istio-system"}));
  EXPECT_EQ(config->pilot_address, "keep:15010");  // not set: the default stays
  EXPECT_EQ(config->template_yaml, defaults.template_yaml);
}

TEST(InjectorConfigFileTest, AnEmptyFileKeepsEveryDefault) {
  std::string error;
  auto config = ParseInjectorConfig("", "empty.yaml", InjectorConfig{}, &error);
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->proxy_image, InjectorConfig{}.proxy_image);
}

TEST(InjectorConfigFileTest, MistakesNameTheFileTheFieldAndTheReason) {
  std::string error;
  EXPECT_FALSE(ParseInjectorConfig("values:\n  proxyImage: x\n  concurency: 2\n", "cm.yaml", {}, &error));
  EXPECT_EQ(error, "cm.yaml: values.concurency: unknown field");
  EXPECT_FALSE(ParseInjectorConfig("values:\n  concurrency: two\n", "cm.yaml", {}, &error));
  EXPECT_EQ(error, "cm.yaml: values.concurrency: must be an integer");
  EXPECT_FALSE(ParseInjectorConfig("values:\n  concurrency: 0\n", "cm.yaml", {}, &error));
  EXPECT_EQ(error, "cm.yaml: values.concurrency: must be at least 1");
  EXPECT_FALSE(ParseInjectorConfig("policy:\n  excludedNamespaces: istio-system\n", "cm.yaml", {}, &error));
  EXPECT_EQ(error, "cm.yaml: policy.excludedNamespaces: must be a list of strings");
  EXPECT_FALSE(ParseInjectorConfig("templates: x\n", "cm.yaml", {}, &error));
  EXPECT_EQ(error, "cm.yaml: templates: unknown field");
  EXPECT_FALSE(ParseInjectorConfig("values: [\n", "cm.yaml", {}, &error));
  EXPECT_THAT(error, HasSubstr("cm.yaml: not YAML"));
}

}  // namespace
}  // namespace cmesh::webhook
