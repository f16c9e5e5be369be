// testdata/all-model-fields.yaml is what proves the CRDs accept every field cmesh supports, so it
// must itself be a document set cmesh's model accepts: its decoders refuse fields they do not know,
// so nothing in it is a field cmesh does not support.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/model/parser.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

TEST(AllModelFieldsTest, TheModelAcceptsTheDocumentsWithoutErrors) {
  const std::string file = SourceDir() + "/test/kube/testdata/all-model-fields.yaml";
  model::ParseResult r = model::ParseDocuments(ReadFile(file), file);
  std::string errors;
  for (const auto& d : r.diagnostics) {
    if (d.severity == model::Severity::kError) errors += d.ToString() + "\n";
  }
  EXPECT_TRUE(r.ok()) << errors;
  EXPECT_EQ(r.config.virtual_services.size(), 3u);
  EXPECT_EQ(r.config.destination_rules.size(), 2u);
}

}  // namespace
}  // namespace cmesh::testing
