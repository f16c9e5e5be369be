#include "cmesh/kube_source/kube_source.h"

#include <utility>

namespace cmesh::kube_source {
namespace {

// What the status writer compares: the object's version and its diagnostics.
std::string ReportFingerprint(const nlohmann::json& reduced, const std::vector<model::Diagnostic>& diagnostics) {
  std::string out = reduced.value("/metadata/generation"_json_pointer, nlohmann::json(0)).dump();
  for (const auto& d : diagnostics) out += "\n" + d.ToString();
  return out;
}

bool SameObject(const model::ObjectRef& object, const pipeline::ObjectKey& key) {
  return object.kind == key.kind && object.ns == key.ns && object.name == key.name;
}

}  // namespace

KubeSource::KubeSource(kube::KubeClient& client, pipeline::SourceMerger& merger, KubeSourceOptions options)
    : merger_(merger), options_(std::move(options)), config_(std::make_shared<const model::ConfigSet>()) {
  merger_.AddSource("kubernetes", [this] { return config(); });
  for (const WatchedKind& kind : WatchedKinds()) {
    informers_.push_back(std::make_unique<Informer>(
        client, kind.resource, kind.reduce,
        [this, &kind](const std::vector<ObjectChange>& changes) { OnChanges(kind, changes); }, options_.informer));
  }
  // Pods by IP, for finding the pod of a proxy that names only its address.
  for (auto& pods : informers_) {
    if (pods->kind().kind != "Pod") continue;
    pods->AddIndex("ip", [](const nlohmann::json& pod) {
      std::string ip = pod.value("/status/podIP"_json_pointer, std::string());
      return ip.empty() ? std::vector<std::string>{} : std::vector<std::string>{ip};
    });
  }
  for (auto& informer : informers_) informer->Start();
}

std::optional<model::Labels> KubeSource::PodLabels(const std::string& ns, const std::string& name,
                                                   const std::string& ip) const {
  const Informer* pods = informer("Pod");
  if (pods == nullptr) return std::nullopt;
  std::optional<nlohmann::json> pod;
  if (!name.empty()) pod = pods->Get(ns + "/" + name);
  if (!pod && !ip.empty()) {
    std::vector<nlohmann::json> same_ip;
    for (auto& candidate : pods->ByIndex("ip", ip)) {
      if (candidate.value("/metadata/namespace"_json_pointer, std::string()) == ns) same_ip.push_back(std::move(candidate));
    }
    if (same_ip.size() == 1) pod = std::move(same_ip[0]);
  }
  if (!pod) return std::nullopt;
  model::Labels labels;
  const auto& meta = (*pod)["metadata"];
  if (meta.contains("labels") && meta["labels"].is_object()) {
    for (const auto& [key, value] : meta["labels"].items()) {
      if (value.is_string()) labels[key] = value.get<std::string>();
    }
  }
  return labels;
}

KubeSource::~KubeSource() {
  for (auto& informer : informers_) informer->Stop();
}

bool KubeSource::synced() const {
  std::lock_guard lock(mutex_);
  return all_synced_;
}

const Informer* KubeSource::informer(const std::string& kind) const {
  for (const auto& informer : informers_) {
    if (informer->kind().kind == kind) return informer.get();
  }
  return nullptr;
}

void KubeSource::OnChanges(const WatchedKind& kind, const std::vector<ObjectChange>& changes) {
  pipeline::ObjectKeySet changed;
  bool first_sync = false;
  {
    std::lock_guard lock(mutex_);
    for (const ObjectChange& change : changes) {
      const auto slash = change.key.find('/');
      pipeline::ObjectKey key{kind.resource.kind, slash == std::string::npos ? "" : change.key.substr(0, slash),
                              slash == std::string::npos ? change.key : change.key.substr(slash + 1)};
      if (!change.object) {
        auto gone = entries_.find(key);
        if (gone == entries_.end()) continue;
        if (reported_.erase(key) > 0) deleted_.push_back({std::move(gone->second.reduced), {}, true});
        entries_.erase(gone);
        changed.insert(key);
        continue;
      }
      std::string input = ModelInput(*change.object).dump();
      auto it = entries_.find(key);
      if (it != entries_.end() && it->second.input == input) {
        // A new resourceVersion or status: no change to the mesh.
        if (kind.has_status) it->second.reduced = *change.object;
        continue;
      }
      Entry entry;
      entry.parsed = model::ParseDocuments(input, "kube-apiserver", {.cross_object_checks = false});
      entry.input = std::move(input);
      if (kind.has_status) entry.reduced = *change.object;  // only the status writer reads it
      entries_[key] = std::move(entry);
      changed.insert(key);
    }
    if (!changed.empty()) dirty_ = true;
    // The first call of each informer is its first list.
    if (!all_synced_) {
      synced_kinds_.insert(kind.resource.kind);
      if (synced_kinds_.size() == informers_.size()) {
        all_synced_ = true;
        first_sync = true;
      }
    }
    if (!all_synced_) return;
  }
  if (first_sync) {
    pipeline::ObjectKeySet all;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [key, entry] : entries_) all.insert(key);
    }
    merger_.PushNow(all);
    if (options_.on_synced) options_.on_synced();
    return;
  }
  if (!changed.empty()) merger_.Changed(std::move(changed));
}

std::shared_ptr<const model::ConfigSet> KubeSource::config() {
  std::vector<ValidatedObject> validated;
  std::vector<model::Diagnostic> diagnostics;
  std::shared_ptr<const model::ConfigSet> config;
  {
    std::lock_guard lock(mutex_);
    if (!dirty_) return config_;
    dirty_ = false;
    model::ParseResult merged;
    for (const auto& [key, entry] : entries_) {
      merged.config.Merge(entry.parsed.config);
      merged.diagnostics.insert(merged.diagnostics.end(), entry.parsed.diagnostics.begin(),
                                entry.parsed.diagnostics.end());
    }
    model::CheckCrossObjectRules(&merged);
    config_ = std::make_shared<const model::ConfigSet>(std::move(merged.config));
    diagnostics_ = std::move(merged.diagnostics);
    config = config_;
    diagnostics = diagnostics_;
    validated.swap(deleted_);
    // Per VirtualService and DestinationRule: its diagnostics (from its own parse and from the
    // cross-object rules), reported when they or the object changed.
    for (const auto& [key, entry] : entries_) {
      if (key.kind != "VirtualService" && key.kind != "DestinationRule") continue;
      ValidatedObject object{entry.reduced, {}};
      for (const auto& d : diagnostics_) {
        if (SameObject(d.object, key)) object.diagnostics.push_back(d);
      }
      std::string fingerprint = ReportFingerprint(entry.reduced, object.diagnostics);
      auto& reported = reported_[key];
      if (reported == fingerprint) continue;
      reported = std::move(fingerprint);
      validated.push_back(std::move(object));
    }
  }
  if (options_.on_diagnostics) options_.on_diagnostics(diagnostics);
  if (options_.on_validated && !validated.empty()) options_.on_validated(validated);
  return config;
}

std::vector<model::Diagnostic> KubeSource::diagnostics() {
  config();
  std::lock_guard lock(mutex_);
  return diagnostics_;
}

}  // namespace cmesh::kube_source
