#include "cmesh/kube_status/status_writer.h"

#include <ctime>
#include <utility>

#include "cmesh/kube_status/istio_status.h"
#include "cmesh/logging/logger.h"

namespace cmesh::kube_status {
namespace {

using logging::Log;
using logging::LogLevel;

std::string StringAt(const nlohmann::json& object, const char* a, const char* b) {
  auto outer = object.find(a);
  if (outer == object.end() || !outer->is_object()) return "";
  auto inner = outer->find(b);
  return inner != outer->end() && inner->is_string() ? inner->get<std::string>() : "";
}

std::int64_t Generation(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return 0;
  auto generation = metadata->find("generation");
  return generation != metadata->end() && generation->is_number_integer() ? generation->get<std::int64_t>() : 0;
}

nlohmann::json StatusOf(const nlohmann::json& object) {
  auto status = object.find("status");
  return status != object.end() ? *status : nlohmann::json();
}

// What we decided, without the timestamps: two writes of the same fingerprint for the same
// generation mean someone undid the first.
nlohmann::json Fingerprint(const nlohmann::json& status) {
  nlohmann::json fingerprint = {{"messages", nlohmann::json::array()}};
  if (auto conditions = status.find("conditions"); conditions != status.end()) {
    for (const auto& condition : *conditions) {
      if (condition.is_object() && condition.value("type", std::string()) == kReconciledCondition) {
        nlohmann::json copy = condition;
        copy.erase("lastTransitionTime");
        fingerprint["condition"] = copy;
      }
    }
  }
  if (auto messages = status.find("validationMessages"); messages != status.end()) {
    fingerprint["messages"] = *messages;
  }
  return fingerprint;
}

std::string Describe(const nlohmann::json& object) {
  return object.value("kind", std::string("object")) + " " + StringAt(object, "metadata", "namespace") + "/" +
         StringAt(object, "metadata", "name");
}

}  // namespace

bool ResourceForObject(const nlohmann::json& object, kube::ResourceKind* resource) {
  if (!object.is_object()) return false;
  const std::string api_version = object.value("apiVersion", std::string());
  const std::string kind = object.value("kind", std::string());
  auto slash = api_version.find('/');
  if (slash == std::string::npos) return false;
  const std::string group = api_version.substr(0, slash);
  const std::string version = api_version.substr(slash + 1);
  if (group != "networking.istio.io" || version.empty()) return false;
  std::string plural;
  if (kind == "VirtualService") {
    plural = "virtualservices";
  } else if (kind == "DestinationRule") {
    plural = "destinationrules";
  } else {
    return false;
  }
  *resource = kube::ResourceKind{group, version, plural, kind, true};
  return true;
}

StatusWriter::StatusWriter(kube::KubeClient& client, StatusWriterOptions options)
    : client_(client), options_(std::move(options)) {}

std::string StatusWriter::Now() const {
  auto now = options_.now ? options_.now() : std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

void StatusWriter::Forget(const std::string& kind, const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  rewrites_.erase(kind + "/" + ns + "/" + name);
}

ReconcileResult StatusWriter::Reconcile(const nlohmann::json& object,
                                        const std::vector<model::Diagnostic>& diagnostics) {
  ReconcileResult result;
  kube::ResourceKind resource;
  if (!ResourceForObject(object, &resource)) {
    result.error = "status: not a VirtualService or DestinationRule of networking.istio.io: " +
                   object.value("apiVersion", std::string("?")) + " " + object.value("kind", std::string("?"));
    return result;
  }
  const std::string ns = StringAt(object, "metadata", "namespace");
  const std::string name = StringAt(object, "metadata", "name");
  if (ns.empty() || name.empty()) {
    result.error = "status: " + resource.kind + " without metadata.namespace or metadata.name";
    return result;
  }
  const std::string key = resource.kind + "/" + ns + "/" + name;

  nlohmann::json current = object;
  if (StringAt(object, "metadata", "resourceVersion").empty()) {
    // Without a resourceVersion the write would be unconditional and could erase what another
    // writer just wrote: read the object first.
    auto fresh = client_.Get(resource, ns, name);
    if (!fresh.ok()) {
      result.error = "status of " + Describe(object) + ": " + fresh.error.message;
      return result;
    }
    current = std::move(*fresh.value);
  }
  for (int attempt = 0;; ++attempt) {
    const std::int64_t generation = Generation(current);
    nlohmann::json desired = DesiredStatus(StatusOf(current), generation, diagnostics, Now());
    if (desired == StatusOf(current)) {
      result.skipped_unchanged = true;
      return result;
    }
    if (attempt >= options_.max_attempts) {
      result.gave_up = true;
      Log(LogLevel::kWarn, "status of " + Describe(object) + ": still conflicting after " +
                               std::to_string(result.attempts) + " attempts; leaving it to the next change");
      return result;
    }
    {
      // Someone keeps reverting what we write for this generation: step aside instead of fighting.
      std::lock_guard<std::mutex> lock(mutex_);
      Rewrites& rewrites = rewrites_[key];
      nlohmann::json fingerprint = Fingerprint(desired);
      if (rewrites.generation != generation || rewrites.desired != fingerprint) {
        rewrites = Rewrites{generation, std::move(fingerprint), 0, false};
      }
      if (rewrites.count >= options_.max_rewrites) {
        if (!rewrites.logged) {
          rewrites.logged = true;
          Log(LogLevel::kWarn, "status of " + Describe(object) + ": another writer keeps changing it; cmesh stops "
                                   "writing it until the object or its validation result changes");
        }
        result.gave_up = true;
        return result;
      }
    }

    nlohmann::json update = current;
    update["status"] = desired;
    ++result.attempts;
    auto written = client_.UpdateStatus(resource, ns, update);
    if (written.ok()) {
      std::lock_guard<std::mutex> lock(mutex_);
      rewrites_[key].count++;
      result.wrote = true;
      return result;
    }
    if (!written.error.Conflict()) {
      result.error = "status of " + Describe(object) + ": " + written.error.message;
      return result;
    }
    // 409: the object changed since we read it. Read it again and decide again.
    auto fresh = client_.Get(resource, ns, name);
    if (!fresh.ok()) {
      result.error = "status of " + Describe(object) + ": re-reading after a conflict: " + fresh.error.message;
      return result;
    }
    current = std::move(*fresh.value);
  }
}

}  // namespace cmesh::kube_status
