// The Kubernetes config source of `cmesh-pilot --kubeconfig`: one Informer per watched kind
// (watched_kinds.h), each object decoded into the model on its own, merged into one ConfigSet for
// the SourceMerger.
//
// Each object is parsed alone (model::ParseDocuments over its reduced JSON), so an invalid
// VirtualService is left out with its diagnostics while every other object keeps being served.
// An event whose model input did not change (a Pod update that touches neither labels, IP, phase,
// readiness nor ports; our own status writes) is no change: nothing is pushed. Nothing is pushed
// either before every informer has synced, so proxies never see half a cluster; the first push
// carries everything.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmesh/kube/kube_client.h"
#include "cmesh/kube_source/informer.h"
#include "cmesh/kube_source/watched_kinds.h"
#include "cmesh/model/config_set.h"
#include "cmesh/model/diagnostic.h"
#include "cmesh/model/parser.h"
#include "cmesh/pipeline/object_key.h"
#include "cmesh/pipeline/source_merger.h"

namespace cmesh::kube_source {

// A VirtualService or DestinationRule and the result of validating it, for the status writer.
struct ValidatedObject {
  nlohmann::json object;  // reduced: apiVersion, kind, metadata (generation, resourceVersion), spec, status
  std::vector<model::Diagnostic> diagnostics;
  bool deleted = false;   // the object is gone (object then holds its last reduced form)
};

struct KubeSourceOptions {
  InformerOptions informer;
  // Every diagnostic after each rebuild (on the push's thread): to log and count them.
  std::function<void(const std::vector<model::Diagnostic>&)> on_diagnostics;
  // The VirtualServices and DestinationRules whose validation result or object changed since the
  // last call (on the push's thread; keep it short: hand the work to another thread).
  std::function<void(const std::vector<ValidatedObject>&)> on_validated;
  // Called once, when every informer has synced and the first config was pushed.
  std::function<void()> on_synced;
};

class KubeSource {
 public:
  // Starts the informers and adds the source to `merger`. `client` and `merger` must outlive it.
  KubeSource(kube::KubeClient& client, pipeline::SourceMerger& merger, KubeSourceOptions options);
  ~KubeSource();
  KubeSource(const KubeSource&) = delete;
  KubeSource& operator=(const KubeSource&) = delete;

  bool synced() const;
  // The current objects (rebuilt when something changed since the last call).
  std::shared_ptr<const model::ConfigSet> config();
  std::vector<model::Diagnostic> diagnostics();
  // The informers, by kind name ("Pod", ...), for stats and tests.
  const Informer* informer(const std::string& kind) const;

  // The labels of the pod behind a proxy, as Istio finds it: by namespace and name when the
  // proxy's id names its pod, else by its IP (the Pod informer's "ip" index; only when exactly
  // one pod of the namespace has it). nullopt when no pod matches.
  std::optional<model::Labels> PodLabels(const std::string& ns, const std::string& name, const std::string& ip) const;

 private:
  struct Entry {
    std::string input;  // the model input's JSON text, to tell real changes from churn
    model::ParseResult parsed;
    nlohmann::json reduced;  // for the status writer: VirtualService and DestinationRule only (else null)
  };
  void OnChanges(const WatchedKind& kind, const std::vector<ObjectChange>& changes);

  pipeline::SourceMerger& merger_;
  KubeSourceOptions options_;
  std::vector<std::unique_ptr<Informer>> informers_;

  mutable std::mutex mutex_;  // guards everything below
  std::map<pipeline::ObjectKey, Entry> entries_;
  std::set<std::string> synced_kinds_;  // kinds whose first list arrived
  bool all_synced_ = false;
  bool dirty_ = true;
  std::shared_ptr<const model::ConfigSet> config_;
  std::vector<model::Diagnostic> diagnostics_;
  // Validation reports already handed out, to report only changes: key → generation and diagnostics.
  std::map<pipeline::ObjectKey, std::string> reported_;
  std::vector<ValidatedObject> deleted_;  // reported at the next rebuild
};

}  // namespace cmesh::kube_source
