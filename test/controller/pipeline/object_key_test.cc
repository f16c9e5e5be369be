#include "cmesh/pipeline/object_key.h"

#include <gtest/gtest.h>

namespace cmesh::pipeline {
namespace {

model::VirtualService Vs(const std::string& ns, const std::string& name, uint64_t hash) {
  model::VirtualService vs;
  vs.meta.ns = ns;
  vs.meta.name = name;
  vs.origin.content_hash = hash;
  return vs;
}

TEST(ObjectKeyTest, DiffReportsAddedRemovedAndChangedOnly) {
  model::ConfigSet before;
  before.virtual_services = {Vs("default", "same", 1), Vs("default", "edited", 2), Vs("default", "gone", 3)};
  model::ConfigSet after;
  after.virtual_services = {Vs("default", "same", 1), Vs("default", "edited", 20), Vs("default", "new", 4)};
  const ObjectKeySet expected = {{"VirtualService", "default", "edited"},
                                 {"VirtualService", "default", "gone"},
                                 {"VirtualService", "default", "new"}};
  EXPECT_EQ(DiffObjects(before, after), expected);
}

TEST(ObjectKeyTest, UnknownHashCountsAsChanged) {
  model::ConfigSet config;
  config.virtual_services = {Vs("default", "built-in-code", 0)};
  EXPECT_EQ(DiffObjects(config, config).size(), 1u);
}

TEST(ObjectKeyTest, KindsAreDistinct) {
  model::ConfigSet before;
  model::ConfigSet after;
  model::Service service;
  service.meta.ns = "default";
  service.meta.name = "reviews";
  service.origin.content_hash = 7;
  after.services = {service};
  before.virtual_services = {Vs("default", "reviews", 7)};
  const ObjectKeySet expected = {{"Service", "default", "reviews"}, {"VirtualService", "default", "reviews"}};
  EXPECT_EQ(DiffObjects(before, after), expected);
  EXPECT_EQ((ObjectKey{"Service", "default", "reviews"}).ToString(), "Service/default/reviews");
}

}  // namespace
}  // namespace cmesh::pipeline
