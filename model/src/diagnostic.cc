#include "cmesh/model/diagnostic.h"

#include <algorithm>

namespace cmesh::model {

std::string Diagnostic::ToString() const {
  std::string out = object.file.empty() ? std::string("<input>") : object.file;
  if (object.line > 0) out += ":" + std::to_string(object.line);
  out += severity == Severity::kError ? ": error: " : ": warning: ";
  if (!object.kind.empty()) {
    out += object.kind;
    if (!object.name.empty() || !object.ns.empty()) {
      out += " ";
      if (!object.ns.empty()) out += object.ns + "/";
      out += object.name;
    }
    out += ": ";
  }
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

bool HasErrors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace cmesh::model
