// Decoding Kubernetes-style documents (YAML, multi-document, or JSON) into the config model.
// No I/O: callers pass the text and the name to report it under.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cmesh/model/config_set.h"
#include "cmesh/model/diagnostic.h"

namespace cmesh::model {

struct ParseResult {
  // Every object that decoded and validated cleanly. An object with any error is left out, so one
  // bad VirtualService never takes the others down with it.
  ConfigSet config;
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return !HasErrors(diagnostics); }
};

struct ParseOptions {
  // Apply CheckCrossObjectRules to the result. A loader that merges several texts turns this off
  // and checks the merged result once instead.
  bool cross_object_checks = true;
};

// Parses every document in `text` (YAML with `---` separators, a JSON object, or a Kubernetes
// `List` / `kind: ...List` whose items are decoded one by one), validates each object, and reports
// malformed YAML with the file and line. Unsupported kinds (Gateway, ServiceEntry, Sidecar, ...)
// produce a "not supported yet" warning and are skipped. `file_name` only labels diagnostics.
ParseResult ParseDocuments(std::string_view text, std::string_view file_name, ParseOptions options = {});

// Rules that need the whole config rather than one object. A VirtualService without hosts is valid
// only as a delegate (Istio's VirtualService chaining): some other VirtualService of the config
// must name it in an http[].delegate. Otherwise it is rejected ("spec.hosts: Required value") and
// moved out of the config, like every invalid object.
void CheckCrossObjectRules(ParseResult* result);

}  // namespace cmesh::model
