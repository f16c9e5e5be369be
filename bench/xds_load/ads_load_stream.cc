#include "ads_load_stream.h"

#include <algorithm>
#include <utility>

namespace cmesh::xds_load {

using envoy::service::discovery::v3::DiscoveryRequest;

envoy::config::core::v3::Node MakeLoadNode(std::size_t index, const std::string& ns,
                                           const std::map<std::string, std::string>& labels) {
  // 10.a.b.c from index + 1, so stream 0 is 10.0.0.1. Only a name: nothing connects to it.
  const std::size_t n = index + 1;
  const std::string ip = "10." + std::to_string((n >> 16) & 0xff) + "." + std::to_string((n >> 8) & 0xff) + "." +
                         std::to_string(n & 0xff);
  envoy::config::core::v3::Node node;
  node.set_id("sidecar~" + ip + "~load-" + std::to_string(index) + "." + ns + "~" + ns + ".svc.cluster.local");
  node.set_cluster("xds-load." + ns);
  node.set_user_agent_name("cmesh-xds-load");
  auto& fields = *node.mutable_metadata()->mutable_fields();
  auto& label_fields = *fields["LABELS"].mutable_struct_value()->mutable_fields();
  for (const auto& [key, value] : labels) label_fields[key].set_string_value(value);
  fields["NAMESPACE"].set_string_value(ns);
  fields["INSTANCE_IPS"].set_string_value(ip);
  return node;
}

AdsLoadStream::AdsLoadStream(std::size_t index, envoy::config::core::v3::Node node, StreamShared shared)
    : index_(index), node_(std::move(node)), shared_(shared) {}

DiscoveryRequest AdsLoadStream::Request(XdsType type) const {
  const TypeState& t = state(type);
  DiscoveryRequest request;
  request.set_type_url(std::string(TypeUrl(type)));
  request.set_version_info(t.acked_version);
  request.set_response_nonce(t.nonce);
  for (const auto& name : t.subscription) request.add_resource_names(name);
  return request;
}

void AdsLoadStream::Start(envoy::service::discovery::v3::AggregatedDiscoveryService::Stub* stub) {
  stub->async()->StreamAggregatedResources(&context_, this);
  StartRead(&response_);
  const DiscoveryRequest* first = nullptr;
  {
    std::lock_guard lock(mu_);
    // Like Envoy: CDS first, the node only in the first request of the stream.
    DiscoveryRequest cds = Request(XdsType::kCds);
    *cds.mutable_node() = node_;
    state(XdsType::kCds).requested = true;
    state(XdsType::kLds).requested = true;
    first = EnqueueLocked({std::move(cds), Request(XdsType::kLds)});
  }
  if (first) StartWrite(first);
  StartCall();
}

void AdsLoadStream::Cancel() {
  {
    std::lock_guard lock(mu_);
    if (done_) return;
    cancelled_ = true;
  }
  context_.TryCancel();
}

void AdsLoadStream::ArmChange() {
  std::lock_guard lock(mu_);
  change_armed_ = true;
  change_reached_ = false;
  change_from_version_ = state(XdsType::kRds).acked_version;
}

bool AdsLoadStream::done() const {
  std::lock_guard lock(mu_);
  return done_;
}

std::size_t AdsLoadStream::resource_count(XdsType type) const {
  std::lock_guard lock(mu_);
  const TypeState& t = state(type);
  return (type == XdsType::kEds || type == XdsType::kRds) ? t.received.size() : t.last_count;
}

std::string AdsLoadStream::Describe() const {
  std::lock_guard lock(mu_);
  std::string out = "stream " + std::to_string(index_) + " (" + node_.id() + "):";
  for (std::size_t i = 0; i < kXdsTypeCount; ++i) {
    const auto type = static_cast<XdsType>(i);
    const TypeState& t = state(type);
    out += " " + std::string(ShortName(type)) + "=";
    if (type == XdsType::kEds || type == XdsType::kRds) {
      out += std::to_string(t.received.size()) + "/" + std::to_string(t.subscription.size());
    } else {
      out += t.acked ? "acked(" + std::to_string(t.last_count) + ")" : "none";
    }
  }
  if (done_) out += " [ended]";
  return out;
}

bool AdsLoadStream::SyncedLocked() const {
  const TypeState& cds = state(XdsType::kCds);
  const TypeState& lds = state(XdsType::kLds);
  if (!cds.acked || !lds.acked) return false;
  for (XdsType type : {XdsType::kEds, XdsType::kRds}) {
    const TypeState& t = state(type);
    if (t.subscription.empty()) continue;  // nothing to wait for (no EDS cluster / no RDS listener)
    if (!t.acked) return false;
    for (const auto& name : t.subscription) {
      if (!t.received.count(name)) return false;
    }
  }
  return true;
}

const DiscoveryRequest* AdsLoadStream::EnqueueLocked(std::vector<DiscoveryRequest> requests) {
  if (write_failed_ || done_) return nullptr;
  for (auto& request : requests) writes_.push_back(std::move(request));
  if (write_in_flight_ || writes_.empty()) return nullptr;
  write_in_flight_ = true;
  return &writes_.front();  // deque: stays valid while later requests are appended
}

void AdsLoadStream::OnReadDone(bool ok) {
  if (!ok) return;  // the stream is ending; OnDone follows
  LoadCounters& counters = *shared_.counters;
  std::string error;
  auto digest = shared_.digests->Digest(response_, &error);
  counters.resources_received += static_cast<std::uint64_t>(response_.resources_size());
  counters.bytes_received += response_.ByteSizeLong();
  const DiscoveryRequest* to_write = nullptr;
  bool reached_sync = false;
  bool reached_change = false;
  {
    std::lock_guard lock(mu_);
    if (!digest) {
      // No type to NACK against: count it and wait for the next response.
      ++counters.malformed_responses;
      counters.Error("stream " + std::to_string(index_) + ": " + error);
    } else {
      const XdsType type = digest->type;
      TypeState& t = state(type);
      ++counters.responses[static_cast<std::size_t>(type)];
      t.nonce = response_.nonce();
      std::vector<DiscoveryRequest> out;
      if (!digest->errors.empty()) {
        // A NACK, as Envoy sends it: the previous version, this nonce, the reason.
        ++counters.malformed_responses;
        ++counters.nacks[static_cast<std::size_t>(type)];
        counters.Error("stream " + std::to_string(index_) + " NACKs " + std::string(ShortName(type)) + " version \"" +
                       response_.version_info() + "\": " + digest->errors.front());
        DiscoveryRequest nack = Request(type);
        nack.mutable_error_detail()->set_code(3);  // INVALID_ARGUMENT
        nack.mutable_error_detail()->set_message(digest->errors.front());
        out.push_back(std::move(nack));
      } else {
        t.last_count = digest->names.size();
        // A CDS or LDS response may change what EDS or RDS subscribes to: subscribe first.
        if (type == XdsType::kCds || type == XdsType::kLds) {
          const XdsType dependent = type == XdsType::kCds ? XdsType::kEds : XdsType::kRds;
          TypeState& d = state(dependent);
          if (digest->references != d.subscription || (!d.requested && !digest->references.empty())) {
            d.subscription = digest->references;
            for (auto it = d.received.begin(); it != d.received.end();) {
              it = std::binary_search(d.subscription.begin(), d.subscription.end(), *it) ? std::next(it)
                                                                                       : d.received.erase(it);
            }
            d.requested = true;
            out.push_back(Request(dependent));
          }
        } else {
          for (const auto& name : digest->names) t.received.insert(name);
        }
        t.acked_version = response_.version_info();
        t.acked = true;
        ++counters.acks[static_cast<std::size_t>(type)];
        out.push_back(Request(type));
        if (type == XdsType::kRds && change_armed_ && !change_reached_ && t.acked_version != change_from_version_) {
          change_reached_ = true;
          reached_change = true;
        }
      }
      if (!synced_ && SyncedLocked()) {
        synced_ = true;
        reached_sync = true;
      }
      to_write = EnqueueLocked(std::move(out));
    }
  }
  if (reached_sync) shared_.synced->Reach(index_);
  if (reached_change) shared_.change_acked->Reach(index_);
  // response_ is no longer read above this line, so the next read may reuse it.
  StartRead(&response_);
  if (to_write) StartWrite(to_write);
}

void AdsLoadStream::OnWriteDone(bool ok) {
  const DiscoveryRequest* next = nullptr;
  {
    std::lock_guard lock(mu_);
    writes_.pop_front();
    if (!ok) {
      if (!cancelled_) ++shared_.counters->writes_failed;
      write_failed_ = true;
      writes_.clear();
      write_in_flight_ = false;
      return;
    }
    if (writes_.empty()) {
      write_in_flight_ = false;
    } else {
      next = &writes_.front();
    }
  }
  if (next) StartWrite(next);
}

void AdsLoadStream::OnDone(const grpc::Status& status) {
  bool expected = false;
  {
    std::lock_guard lock(mu_);
    expected = cancelled_;
  }
  shared_.counters->StreamEnded(static_cast<int>(status.error_code()), status.error_message(), expected);
  // Last: the owner may destroy this object once done() is true.
  std::lock_guard lock(mu_);
  done_ = true;
}

}  // namespace cmesh::xds_load
