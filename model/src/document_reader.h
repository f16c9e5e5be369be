// Turns the text of a file into JSON documents: YAML (multi-document) or JSON. This is the only
// place that touches yaml-cpp and nlohmann's parser, so their exceptions stop here.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/model/diagnostic.h"

namespace cmesh::model::internal {

struct RawDocument {
  nlohmann::json json;
  int line = 0;  // 1-based line where the document's content starts
  // The 1-based line of a field path such as "spec.http[0].route[1].weight" (or of its closest
  // existing parent); 0 when unknown (JSON input). Only called when reporting a problem.
  std::function<int(std::string_view field)> line_of;
};

// Appends every document that parsed to `docs`, and an error naming the file and line for each one
// that did not; the other documents of the file are still returned. Empty documents are skipped.
void ReadDocuments(std::string_view text, const std::string& file, std::vector<RawDocument>& docs,
                   std::vector<Diagnostic>& diagnostics);

// FNV-1a over the document's canonical JSON (keys sorted, no spaces): stable across runs and
// machines, and blind to YAML formatting and key order.
uint64_t CanonicalHash(const nlohmann::json& json);

}  // namespace cmesh::model::internal
