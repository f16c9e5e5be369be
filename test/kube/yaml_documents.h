// Splitting multi-document YAML text the way kubectl does, keeping each document's text unchanged.
#pragma once

#include <string>
#include <vector>

namespace cmesh::testing {

// The documents of a "---"-separated stream, each as written (empty documents dropped).
std::vector<std::string> SplitYamlDocuments(const std::string& text);

// The scalar at a path of map keys, e.g. {"kind"} or {"metadata", "namespace"}; "" when absent or
// when the document is not YAML.
std::string YamlScalar(const std::string& document, const std::vector<std::string>& path);

}  // namespace cmesh::testing
