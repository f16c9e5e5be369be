#include "cmesh/compiler/incremental_compiler.h"

#include <algorithm>

#include "cmesh/compiler/snapshot_key.h"
#include "compile_pipeline.h"
#include "config_index.h"

namespace cmesh::compiler {
namespace {

// Whether two lists of objects have the same identities and content hashes, in order. Objects
// without a content hash never compare equal: nothing can be known about them.
template <typename T>
bool SameContent(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].origin.content_hash == 0 || a[i].origin.content_hash != b[i].origin.content_hash ||
        a[i].meta.ns != b[i].meta.ns || a[i].meta.name != b[i].meta.name) {
      return false;
    }
  }
  return true;
}

}  // namespace

IncrementalCompiler::IncrementalCompiler(MeshOptions options) : options_(std::move(options)) {
  Update(std::make_shared<model::ConfigSet>());
}

IncrementalCompiler::~IncrementalCompiler() = default;

void IncrementalCompiler::Update(std::shared_ptr<const model::ConfigSet> config) {
  ++epoch_;
  std::shared_ptr<const ServiceTable> services;
  std::shared_ptr<const RuleTable> rules;
  if (index_ != nullptr && config_ != nullptr && SameContent(config->services, config_->services) &&
      SameContent(config->pods, config_->pods) && SameContent(config->endpoint_slices, config_->endpoint_slices) &&
      SameContent(config->endpoints, config_->endpoints)) {
    services = index_->services;  // keeps the old config alive; its content is identical
  } else {
    services = BuildServiceTable(config, options_, epoch_);
  }
  if (index_ != nullptr && config_ != nullptr &&
      SameContent(config->destination_rules, config_->destination_rules)) {
    rules = index_->destination_rules;
  } else {
    rules = BuildRuleTable(config, options_, epoch_);
  }
  index_ = AssembleIndex(options_, std::move(services), std::move(rules),
                         BuildVirtualServiceTable(config, options_, epoch_));
  config_ = std::move(config);
}

void IncrementalCompiler::UpsertVirtualService(model::VirtualService vs) {
  ++epoch_;
  auto vss = std::make_shared<VirtualServiceTable>();
  vss->reserve(index_->virtual_services->size() + 1);
  for (const auto& e : *index_->virtual_services) {
    if (e->vs->meta.ns == vs.meta.ns && e->vs->meta.name == vs.meta.name) continue;
    vss->push_back(e);
  }
  if (AppliesToMesh(vs)) {
    auto ptr = std::make_shared<const model::VirtualService>(std::move(vs));
    // A unique fallback: an upserted object without a content hash is always "changed".
    vss->push_back(IndexVirtualService(std::move(ptr), options_, epoch_ * 0x9e3779b97f4a7c15ull));
  }
  SortVirtualServices(*vss);
  index_ = AssembleIndex(options_, index_->services, index_->destination_rules, std::move(vss));
}

bool IncrementalCompiler::RemoveVirtualService(const std::string& ns, const std::string& name) {
  auto vss = std::make_shared<VirtualServiceTable>();
  bool found = false;
  for (const auto& e : *index_->virtual_services) {
    if (e->vs->meta.ns == ns && e->vs->meta.name == name) {
      found = true;
      continue;
    }
    vss->push_back(e);
  }
  if (!found) return false;
  ++epoch_;
  index_ = AssembleIndex(options_, index_->services, index_->destination_rules, std::move(vss));
  return true;
}

void IncrementalCompiler::CompileInto(const ProxyNode& proxy, XdsResources* inout) {
  auto& state = states_[ProxySnapshotKey(*index_, proxy)];
  if (state == nullptr) state = std::make_unique<ReuseState>();
  CompileWithState(*index_, proxy, options_, state.get(), inout);
}

void IncrementalCompiler::Forget(const std::string& snapshot_key) {
  states_.erase(snapshot_key);
  results_.erase(snapshot_key);
}

XdsResources IncrementalCompiler::Compile(const ProxyNode& proxy) {
  const std::string key = ProxySnapshotKey(*index_, proxy);
  auto& state = states_[key];
  if (state == nullptr) state = std::make_unique<ReuseState>();
  XdsResources& result = results_[key];
  CompileWithState(*index_, proxy, options_, state.get(), &result);
  return result;
}

}  // namespace cmesh::compiler
