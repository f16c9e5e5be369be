#include "mesh_state.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "mesh_objects.h"

namespace cmesh::kube_churn {

using nlohmann::json;

namespace {

std::string Describe(const kube::KubeError& error) {
  return error.message.empty() ? "HTTP " + std::to_string(error.http_status) : error.message;
}

bool AlreadyExists(const kube::KubeError& error) { return error.Conflict() || error.reason == "AlreadyExists"; }

// YAML (as yaml-cpp parses it) to JSON. The CRD files are plain YAML: scalars that look like
// numbers or booleans become those, as a YAML 1.1 loader like kubectl's does; quoted ones stay strings.
json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = ToJson(entry.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted
      if (text == "true") return true;
      if (text == "false") return false;
      if (text == "null" || text == "~") return nullptr;
      try {
        std::size_t used = 0;
        const long long number = std::stoll(text, &used);
        if (used == text.size()) return number;
      } catch (...) {
      }
      return text;
    }
    default:
      return nullptr;
  }
}

// Runs body(i) for i in [0, count) on `threads` threads; returns the first error.
std::string Parallel(int count, int threads, const std::function<std::string(int)>& body) {
  std::atomic<int> next{0};
  std::mutex mu;
  std::string first_error;
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        std::string error = body(i);
        if (error.empty()) continue;
        std::lock_guard lock(mu);
        if (first_error.empty()) first_error = std::move(error);
        next = count;  // stop everyone
      }
    });
  }
  for (auto& thread : pool) thread.join();
  return first_error;
}

}  // namespace

MeshState::MeshState(kube::KubeClient* client, const Flags& flags)
    : client_(client),
      flags_(flags),
      slots_(static_cast<std::size_t>(flags.services) * static_cast<std::size_t>(flags.pods_per_service)),
      busy_(new std::atomic<bool>[slots_.size()]),
      service_mu_(new std::mutex[static_cast<std::size_t>(flags.services)]) {
  for (std::size_t i = 0; i < slots_.size(); ++i) busy_[i] = false;
}

std::string MeshState::EnsureCrds() {
  auto existing = client_->Get(kinds::kCrd, "", "destinationrules.networking.istio.io");
  if (existing.ok()) return "";
  if (!existing.error.NotFound()) return "reading the DestinationRule CRD: " + Describe(existing.error);
  if (flags_.crds_dir.empty()) return "the DestinationRule CRD is missing and no --crds DIR was given";
  std::vector<std::string> names;
  for (const auto& file : std::filesystem::directory_iterator(flags_.crds_dir)) {
    if (file.path().extension() == ".yaml") names.push_back(file.path().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& path : names) {
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAllFromFile(path);
    } catch (const std::exception& e) {
      return path + ": " + e.what();
    }
    for (const auto& document : documents) {
      if (!document.IsMap()) continue;
      json crd = ToJson(document);
      if (crd.value("kind", "") != "CustomResourceDefinition") continue;
      auto created = client_->Create(kinds::kCrd, "", crd);
      if (!created.ok() && !AlreadyExists(created.error)) return "creating the CRDs of " + path + ": " + Describe(created.error);
    }
  }
  // Objects of a new CRD are accepted once it is Established.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    auto crd = client_->Get(kinds::kCrd, "", "destinationrules.networking.istio.io");
    if (crd.ok()) {
      for (const auto& condition : crd.value->value("/status/conditions"_json_pointer, json::array())) {
        if (condition.value("type", "") == "Established" && condition.value("status", "") == "True") return "";
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return "the DestinationRule CRD did not become Established within 60s";
}

std::string MeshState::DeleteExistingPods() {
  kube::ListOptions options;
  options.ns = flags_.ns;
  auto pods = client_->List(kinds::kPod, options);
  if (!pods.ok()) return "listing pods: " + Describe(pods.error);
  const auto& items = pods.value->items;
  return Parallel(static_cast<int>(items.size()), flags_.setup_threads, [&](int i) -> std::string {
    const std::string name = items[static_cast<std::size_t>(i)].value("/metadata/name"_json_pointer, "");
    kube::KubeError error = client_->Delete(kinds::kPod, flags_.ns, name);
    return error.ok() || error.NotFound() ? "" : "deleting pod " + name + ": " + Describe(error);
  });
}

std::string MeshState::CreateRunningPod(int service, const std::string& name, const std::string& version,
                                        const std::string& ip, const std::function<void()>& pace, int* writes) {
  pace();
  ++*writes;
  auto created = client_->Create(kinds::kPod, flags_.ns, PodObject(name, service, version, flags_.ns));
  if (!created.ok()) return "creating pod " + name + ": " + Describe(created.error);
  pace();
  ++*writes;
  auto running = client_->UpdateStatus(kinds::kPod, flags_.ns, WithRunningStatus(std::move(*created.value), ip));
  if (!running.ok()) return "marking pod " + name + " Running: " + Describe(running.error);
  return "";
}

std::string MeshState::WriteSlice(int service, bool create, const std::function<void()>& pace) {
  std::vector<SliceEndpoint> endpoints;
  const std::size_t pps = static_cast<std::size_t>(flags_.pods_per_service);
  for (std::size_t i = 0; i < pps; ++i) {
    const PodSlot& slot = slots_[static_cast<std::size_t>(service) * pps + i];
    endpoints.push_back({slot.name, slot.ip});
  }
  pace();
  if (create) {
    auto created = client_->Create(kinds::kEndpointSlice, flags_.ns, EndpointSliceObject(service, flags_.ns, endpoints));
    if (created.ok()) return "";
    if (!AlreadyExists(created.error)) return "creating the EndpointSlice of " + ServiceName(service) + ": " + Describe(created.error);
  }
  auto patched = client_->Patch(kinds::kEndpointSlice, flags_.ns, ServiceName(service) + "-churn", kube::PatchType::kMerge,
                                EndpointSlicePatch(flags_.ns, endpoints));
  return patched.ok() ? "" : "updating the EndpointSlice of " + ServiceName(service) + ": " + Describe(patched.error);
}

std::string MeshState::Setup() {
  auto ns = client_->Create(kinds::kNamespace, "", NamespaceObject(flags_.ns));
  if (!ns.ok() && !AlreadyExists(ns.error)) return "creating namespace " + flags_.ns + ": " + Describe(ns.error);
  if (flags_.services > 100) {  // more than the fixture's /24 may hold beside other tests' Services
    auto cidr = client_->Create(kinds::kServiceCidr, "", ServiceCidrObject());
    if (!cidr.ok() && !AlreadyExists(cidr.error)) return "creating a ServiceCIDR: " + Describe(cidr.error);
  }
  for (int node = 0; node < kNodes; ++node) {
    auto created = client_->Create(kinds::kNode, "", NodeObject(node));
    if (!created.ok() && !AlreadyExists(created.error)) return "creating node " + NodeName(node) + ": " + Describe(created.error);
  }
  if (std::string error = EnsureCrds(); !error.empty()) return error;
  if (std::string error = DeleteExistingPods(); !error.empty()) return error;

  const auto no_pace = [] {};
  // Services and DestinationRules first: a control plane started later sees a settled mesh anyway,
  // but one already running then never sees pods of an unknown service.
  std::string error = Parallel(flags_.services, flags_.setup_threads, [&](int s) -> std::string {
    auto service = client_->Create(kinds::kService, flags_.ns, ServiceObject(s, flags_.ns));
    if (!service.ok() && !AlreadyExists(service.error)) return "creating service " + ServiceName(s) + ": " + Describe(service.error);
    auto rule = client_->Create(kinds::kDestinationRule, flags_.ns, DestinationRuleObject(s, flags_.ns));
    if (!rule.ok() && !AlreadyExists(rule.error)) return "creating DestinationRule " + ServiceName(s) + ": " + Describe(rule.error);
    return "";
  });
  if (!error.empty()) return error;
  error = Parallel(total_slots(), flags_.setup_threads, [&](int i) -> std::string {
    const int service = i / flags_.pods_per_service;
    PodSlot& slot = slots_[static_cast<std::size_t>(i)];
    slot.name = ServiceName(service) + "-p" + std::to_string(i % flags_.pods_per_service);
    slot.version = i % 2 == 0 ? "v1" : "v2";
    slot.ip = PodIp(next_ip_++);
    int writes = 0;
    return CreateRunningPod(service, slot.name, slot.version, slot.ip, no_pace, &writes);
  });
  if (!error.empty() || !flags_.endpoint_slices) return error;
  return Parallel(flags_.services, flags_.setup_threads, [&](int s) { return WriteSlice(s, true, no_pace); });
}

std::vector<EndpointCondition> MeshState::CurrentConditions() const {
  std::vector<EndpointCondition> out;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const int service = static_cast<int>(i) / flags_.pods_per_service;
    out.push_back({SubsetCluster(service, slots_[i].version, flags_.ns), slots_[i].ip, true});
  }
  return out;
}

ChurnEvent MeshState::RunEvent(std::mt19937_64& rng, const std::function<void()>& pace) {
  ChurnEvent event;
  std::uniform_int_distribution<int> pick(0, total_slots() - 1);
  int index = -1;
  for (int tries = 0; tries < 16 && index < 0; ++tries) {
    const int candidate = pick(rng);
    bool expected = false;
    if (busy_[static_cast<std::size_t>(candidate)].compare_exchange_strong(expected, true)) index = candidate;
  }
  if (index < 0) return event;
  const int service = index / flags_.pods_per_service;
  PodSlot& slot = slots_[static_cast<std::size_t>(index)];
  std::mutex& service_mu = service_mu_[static_cast<std::size_t>(service)];
  PodSlot old;
  {
    std::lock_guard lock(service_mu);
    old = slot;
  }
  const auto fail = [&](std::string message) {
    ++event.failed_writes;
    if (event.error.empty()) event.error = std::move(message);
  };
  event.replace = std::uniform_real_distribution<double>(0, 1)(rng) < flags_.replace_fraction;
  if (!event.replace) {
    const std::string to = old.version == "v1" ? "v2" : "v1";
    pace();
    ++event.writes;
    auto patched = client_->Patch(kinds::kPod, flags_.ns, old.name, kube::PatchType::kMerge,
                                  json{{"metadata", {{"labels", {{"version", to}}}}}});
    event.answered = Clock::now();
    if (!patched.ok()) {
      fail("relabelling pod " + old.name + ": " + Describe(patched.error));
    } else {
      std::lock_guard lock(service_mu);
      slot.version = to;
      event.expect = {{SubsetCluster(service, to, flags_.ns), old.ip, true},
                      {SubsetCluster(service, old.version, flags_.ns), old.ip, false}};
    }
  } else {
    PodSlot fresh{ServiceName(service) + "-r" + std::to_string(next_name_++), old.version, PodIp(next_ip_++)};
    std::string error = CreateRunningPod(service, fresh.name, fresh.version, fresh.ip, pace, &event.writes);
    if (!error.empty()) {
      fail(error);
    } else {
      pace();
      ++event.writes;
      kube::KubeError deleted = client_->Delete(kinds::kPod, flags_.ns, old.name);
      event.answered = Clock::now();
      if (!deleted.ok() && !deleted.NotFound()) fail("deleting pod " + old.name + ": " + Describe(deleted));
      std::lock_guard lock(service_mu);
      slot = fresh;
      if (flags_.endpoint_slices) {
        ++event.writes;
        if (std::string slice_error = WriteSlice(service, false, pace); !slice_error.empty()) fail(slice_error);
        event.answered = Clock::now();
      }
      const std::string cluster = SubsetCluster(service, fresh.version, flags_.ns);
      if (event.failed_writes == 0) event.expect = {{cluster, fresh.ip, true}, {cluster, old.ip, false}};
    }
  }
  event.slot = index;
  return event;
}

std::string MeshState::CleanupNamespace() {
  // No controller-manager finishes a namespace deletion, so delete its contents one by one.
  std::string error = DeleteExistingPods();
  for (const auto* kind : {&kinds::kService, &kinds::kDestinationRule, &kinds::kEndpointSlice}) {
    kube::ListOptions options;
    options.ns = flags_.ns;
    auto list = client_->List(*kind, options);
    if (!list.ok()) continue;
    const auto& items = list.value->items;
    std::string e = Parallel(static_cast<int>(items.size()), flags_.setup_threads, [&](int i) -> std::string {
      const std::string name = items[static_cast<std::size_t>(i)].value("/metadata/name"_json_pointer, "");
      kube::KubeError result = client_->Delete(*kind, flags_.ns, name);
      return result.ok() || result.NotFound() ? "" : "deleting " + kind->plural + "/" + name + ": " + Describe(result);
    });
    if (error.empty()) error = e;
  }
  kube::KubeError ns = client_->Delete(kinds::kNamespace, "", flags_.ns);
  if (error.empty() && !ns.ok() && !ns.NotFound()) error = "deleting namespace: " + Describe(ns);
  return error;
}

}  // namespace cmesh::kube_churn
