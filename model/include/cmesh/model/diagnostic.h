// Errors and warnings about configuration. Each one names the file (and line when known), the
// object (kind, namespace/name), the field path and the reason, so a user can find and fix it.
#pragma once

#include <string>
#include <vector>

namespace cmesh::model {

enum class Severity { kError, kWarning };

struct ObjectRef {
  std::string file;
  int line = 0;  // 0 when unknown
  std::string kind;
  std::string ns;
  std::string name;
};

struct Diagnostic {
  Severity severity = Severity::kError;
  ObjectRef object;
  std::string field;  // e.g. "spec.http[0].route[1].weight"; empty when it concerns the whole object
  std::string message;

  // "FILE:LINE: error: VirtualService default/reviews: spec.http[0].timeout: invalid duration \"x\""
  std::string ToString() const;
};

bool HasErrors(const std::vector<Diagnostic>& diagnostics);

}  // namespace cmesh::model
