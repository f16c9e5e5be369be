#include "cmesh/xds/delta_stream.h"

namespace cmesh::xds {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;

namespace {
// Drop references before what they reference: listeners, then routes, then clusters, then
// their endpoints.
constexpr std::array<ResourceType, kResourceTypeCount> kRemovalOrder = {
    ResourceType::kListener, ResourceType::kRoute, ResourceType::kCluster, ResourceType::kEndpoint};
}  // namespace

DeltaStream::DeltaStream(const Clock& clock, StreamCallbacks* callbacks)
    : clock_(clock),
      callbacks_(callbacks),
      types_{TypeState(ResourceType::kCluster), TypeState(ResourceType::kEndpoint),
             TypeState(ResourceType::kListener), TypeState(ResourceType::kRoute)} {}

std::vector<DeltaResponse> DeltaStream::OnRequest(const DeltaDiscoveryRequest& request) {
  if (!status_.node && request.has_node()) status_.node = request.node();

  std::optional<ResourceType> type = TypeFromUrl(request.type_url());
  if (!type) {
    ++status_.unknown_type_requests;
    return {};
  }
  TypeState& state = types_[Index(*type)];
  bool first = !state.requested;
  state.requested = true;
  if (first) {
    // A reconnecting client says what it already holds; only differences are sent.
    for (const auto& [name, version] : request.initial_resource_versions()) {
      state.client_versions.insert_or_assign(name, version);
    }
  }
  // In delta the nonce only correlates ACK/NACK: a stale one is not an ACK of the latest
  // response, but the subscription change it carries still applies.
  if (!request.response_nonce().empty()) {
    if (request.response_nonce() == state.last_nonce) {
      // Answered once; a later request echoing it only changes the subscription.
      if (state.answered_nonce != state.last_nonce) {
        state.answered_nonce = state.last_nonce;
        RecordAckOrNack(*type, request);
      }
    } else {
      ++status_.stale_nonces;
    }
  }

  state.subscription.ApplyDelta(request.resource_names_subscribe(), request.resource_names_unsubscribe(), first);
  auto unwanted = [&](const auto& entry) { return !state.subscription.Wants(entry); };
  std::erase_if(state.client_versions, [&](const auto& entry) { return unwanted(entry.first); });
  std::erase_if(state.reported_absent, unwanted);

  std::vector<DeltaResponse> out;
  if (auto response = Respond(*type, kBoth)) out.push_back(std::move(*response));
  return out;
}

std::vector<DeltaResponse> DeltaStream::OnSnapshot(SnapshotPtr snapshot) {
  snapshot_ = std::move(snapshot);
  std::vector<DeltaResponse> out;
  for (ResourceType type : kPushOrder) {
    if (auto response = Respond(type, kUpdates)) out.push_back(std::move(*response));
  }
  for (ResourceType type : kRemovalOrder) {
    if (auto response = Respond(type, kRemovals)) out.push_back(std::move(*response));
  }
  return out;
}

void DeltaStream::RecordAckOrNack(ResourceType type, const DeltaDiscoveryRequest& request) {
  RecordReply(status_, type, request.response_nonce(), request.has_error_detail() ? &request.error_detail() : nullptr,
              clock_.Now(), callbacks_);
}

std::optional<DeltaResponse> DeltaStream::Respond(ResourceType type, Parts parts) {
  TypeState& state = types_[Index(type)];
  if (!state.requested || !snapshot_) return std::nullopt;
  DeltaResponse response{type, snapshot_->Version(type), {}, {}, {}};

  if (parts & kUpdates) {
    auto offer = [&](const ResourcePtr& resource) {
      state.reported_absent.erase(resource->name);
      auto held = state.client_versions.find(resource->name);
      if (held != state.client_versions.end() && held->second == resource->version) return;
      state.client_versions.insert_or_assign(resource->name, resource->version);
      response.resources.push_back(resource);
    };
    if (state.subscription.wildcard()) {
      for (const auto& [name, resource] : snapshot_->Resources(type)) offer(resource);
    }
    for (const std::string& name : state.subscription.names()) {
      ResourcePtr resource = snapshot_->Find(type, name);
      if (resource && !state.subscription.wildcard()) offer(resource);
    }
  }
  if (parts & kRemovals) {
    // Held by the client but gone from the snapshot.
    for (auto it = state.client_versions.begin(); it != state.client_versions.end();) {
      if (snapshot_->Find(type, it->first)) {
        ++it;
        continue;
      }
      response.removed.push_back(it->first);
      state.reported_absent.insert(it->first);
      it = state.client_versions.erase(it);
    }
    // Asked for by name but never there: say so now rather than let the client's
    // does-not-exist timer run out. Sent once; the name stays subscribed and is sent on arrival.
    for (const std::string& name : state.subscription.names()) {
      if (snapshot_->Find(type, name) || state.reported_absent.contains(name)) continue;
      response.removed.push_back(name);
      state.reported_absent.insert(name);
    }
  }

  bool empty = response.resources.empty() && response.removed.empty();
  // A wildcard subscriber waits for its first answer even when the set is empty.
  if (empty && (state.responded || !state.subscription.wildcard())) return std::nullopt;

  state.responded = true;
  response.nonce = std::to_string(++next_nonce_);
  state.last_nonce = response.nonce;
  TypeStatus& type_status = status_.types[Index(type)];
  type_status.sent_version = response.system_version_info;
  type_status.sent_nonce = response.nonce;
  type_status.sent_at = clock_.Now();
  ++type_status.responses;
  return response;
}

}  // namespace cmesh::xds
