// The config of `cmesh-pilot --config-dir DIR`, kept per file so a change costs one file's parse.
//
// Each file's parse result (its valid objects and its diagnostics) is kept. A changed file is
// re-parsed alone; a removed file drops its objects; an invalid object is left out with an error
// while every other object keeps being served. After each change the merged ConfigSet is rebuilt
// in sorted path order (the same order as file_source::LoadPaths, so the same directory gives the
// same config as `cmeshctl compile DIR`) and model::CheckCrossObjectRules runs over the merge.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cmesh/model/config_set.h"
#include "cmesh/model/diagnostic.h"
#include "cmesh/model/parser.h"
#include "cmesh/pipeline/dir_watcher.h"
#include "cmesh/pipeline/object_key.h"

namespace cmesh::pipeline {

class ConfigDirectory {
 public:
  explicit ConfigDirectory(std::string root);

  // Parses every config file under the root (recursively), forgetting files no longer there.
  // Returns the keys of objects that changed against the previous merged config.
  ObjectKeySet LoadAll();

  // Applies one watcher event: created/modified/moved-to files are re-parsed, deleted/moved-from
  // files and gone directories drop their objects. Returns the keys of objects that changed.
  ObjectKeySet Apply(const FileEvent& event);
  // Applies several events and rebuilds the merge once.
  ObjectKeySet Apply(const std::vector<FileEvent>& events);

  // Re-parses `path` (drops it when it no longer exists).
  ObjectKeySet ReloadFile(const std::string& path);
  // Drops `path`, or every file under it when it is a directory path.
  ObjectKeySet Remove(const std::string& path);

  // The merged, cross-checked config (never null; empty before LoadAll).
  std::shared_ptr<const model::ConfigSet> config() const { return config_; }
  // Every file's diagnostics (sorted by path), then the cross-object ones.
  const std::vector<model::Diagnostic>& diagnostics() const { return diagnostics_; }
  // The files currently contributing, sorted.
  std::vector<std::string> files() const;
  const std::string& root() const { return root_; }

 private:
  // Updates the per-file state without rebuilding the merge.
  void ParseFile(const std::string& path);
  void DropPath(const std::string& path);
  ObjectKeySet Rebuild();

  std::string root_;
  std::map<std::string, model::ParseResult> files_;  // by path
  std::shared_ptr<const model::ConfigSet> config_;
  std::vector<model::Diagnostic> diagnostics_;
};

}  // namespace cmesh::pipeline
