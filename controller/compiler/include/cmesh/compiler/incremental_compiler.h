// Incremental compilation for the xDS server and the benchmark.
//
// The compiler's output for a proxy is a set of resources, each a pure function of a few
// explicit inputs (a cluster: the service, the DestinationRule that applies, the options; a
// virtual host: the service, its VirtualService, the destinations' services and rules, the
// proxy's namespace and relevant labels, ...). IncrementalCompiler keys every resource by a hash
// of exactly those inputs and, on the next compilation for the same snapshot key, keeps each
// resource whose key did not change and rebuilds only the others. Objects are identified by the
// parser's content hash (model::Origin::content_hash); an object without one (built in code) is
// treated as changed on every Update, which is always safe.
//
// Typical use:
//   IncrementalCompiler c(options);
//   c.Update(config);                     // whole config (unchanged parts are detected and kept)
//   XdsResources out;
//   c.CompileInto(proxy, &out);           // first compile: everything is built
//   c.UpsertVirtualService(changed_vs);   // one VirtualService changed
//   c.CompileInto(proxy, &out);           // only the affected virtual hosts/route configs rebuilt
//
// Not thread-safe: one IncrementalCompiler per thread (or an external lock).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "cmesh/compiler/compiler.h"
#include "cmesh/model/virtual_service.h"

namespace cmesh::compiler {

struct ReuseState;

class IncrementalCompiler {
 public:
  explicit IncrementalCompiler(MeshOptions options = {});
  ~IncrementalCompiler();
  IncrementalCompiler(const IncrementalCompiler&) = delete;
  IncrementalCompiler& operator=(const IncrementalCompiler&) = delete;

  // Replaces the whole config. The service/endpoint index and the DestinationRule index are
  // reused when their inputs' content hashes did not change.
  void Update(std::shared_ptr<const model::ConfigSet> config);

  // Adds or replaces (by namespace/name) one VirtualService, without re-indexing the rest.
  void UpsertVirtualService(model::VirtualService vs);
  // Removes one VirtualService; false when there was none.
  bool RemoveVirtualService(const std::string& ns, const std::string& name);

  // The fast path. `inout` must be empty or the result of the previous CompileInto for a proxy
  // with the same snapshot key; unchanged resources stay in place (no copy), changed ones are
  // rebuilt, and the result equals Compile(*index(), proxy, options) byte for byte.
  void CompileInto(const ProxyNode& proxy, XdsResources* inout);

  // Drops what is kept for one snapshot key (a group no proxy uses any more). The next
  // CompileInto for that key starts from scratch (with an empty `inout`).
  void Forget(const std::string& snapshot_key);

  // Convenience: a copy of the (incrementally maintained) result for the proxy's snapshot key.
  XdsResources Compile(const ProxyNode& proxy);

  std::shared_ptr<const ConfigIndex> index() const { return index_; }
  const MeshOptions& options() const { return options_; }

 private:
  MeshOptions options_;
  uint64_t epoch_ = 0;
  std::shared_ptr<const model::ConfigSet> config_;
  std::shared_ptr<const ConfigIndex> index_;
  std::unordered_map<std::string, std::unique_ptr<ReuseState>> states_;  // by snapshot key
  std::unordered_map<std::string, XdsResources> results_;                 // for Compile()
};

}  // namespace cmesh::compiler
