// A small RFC 6902 applier for the tests: the injector's patch is applied to the input pod, the
// way the apiserver applies it, and the tests assert on the resulting pod. Written from the RFC
// (6901 pointers, 6902 add/remove/replace/test), independently of the code under test.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace cmesh::webhook::test_support {

// Applies `patch` (an array of operations) to a copy of `document`. Returns false and sets *error
// on the first operation that RFC 6902 says must fail (a missing parent, an index out of range, an
// unknown op, a failed test).
bool ApplyJsonPatch(const nlohmann::json& document, const nlohmann::json& patch, nlohmann::json* result,
                    std::string* error);

}  // namespace cmesh::webhook::test_support
