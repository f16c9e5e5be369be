// Reads config from files, directories and stdin, and parses it into the model.
#pragma once

#include <string>
#include <vector>

#include "cmesh/model/parser.h"

namespace cmesh::file_source {

// Loads every path in order: a file (YAML or JSON), a directory (its *.yaml, *.yml and *.json files,
// recursively, in sorted order), or "-" for standard input. A path that cannot be read becomes an
// error diagnostic naming it; the other paths are still loaded.
model::ParseResult LoadPaths(const std::vector<std::string>& paths);

}  // namespace cmesh::file_source
