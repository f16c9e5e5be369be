#include "cmesh/xds/sotw_stream.h"

namespace cmesh::xds {

using envoy::service::discovery::v3::DiscoveryRequest;

SotwStream::SotwStream(const Clock& clock, StreamCallbacks* callbacks)
    : clock_(clock),
      callbacks_(callbacks),
      types_{TypeState(ResourceType::kCluster), TypeState(ResourceType::kEndpoint),
             TypeState(ResourceType::kListener), TypeState(ResourceType::kRoute)} {}

std::vector<SotwResponse> SotwStream::OnRequest(const DiscoveryRequest& request) {
  // Only the first request is guaranteed to carry the node; later ones may omit or vary it.
  if (!status_.node && request.has_node()) status_.node = request.node();

  std::optional<ResourceType> type = TypeFromUrl(request.type_url());
  if (!type) {
    ++status_.unknown_type_requests;
    return {};
  }
  TypeState& state = types_[Index(*type)];
  // A request echoing an older nonce was written before the client saw our latest response; the
  // one answering that response is on its way and carries the current subscription.
  if (!state.last_nonce.empty() && request.response_nonce() != state.last_nonce) {
    ++status_.stale_nonces;
    return {};
  }
  // Past the check above, a non-empty nonce is our latest one for this type. A nonce while we
  // have sent nothing of this type (e.g. echoed from a previous stream) answers nothing: the
  // request is served as the first one, and is not an ACK.
  // A nonce is ACKed or NACKed once: later requests echoing it (subscription changes) are
  // neither, and must not move the ACK time used for convergence.
  if (!request.response_nonce().empty() && !state.last_nonce.empty() && state.answered_nonce != state.last_nonce) {
    state.answered_nonce = state.last_nonce;
    RecordAckOrNack(*type, request);
  }

  state.requested = true;
  state.subscription.ApplySotw(request.resource_names());
  // Forget what the client dropped, so a later re-subscription sends it again.
  std::erase_if(state.sent, [&](const auto& entry) { return !state.subscription.Wants(entry.first); });

  std::vector<SotwResponse> out;
  if (auto response = Respond(*type)) out.push_back(std::move(*response));
  return out;
}

std::vector<SotwResponse> SotwStream::OnSnapshot(SnapshotPtr snapshot) {
  snapshot_ = std::move(snapshot);
  std::vector<SotwResponse> out;
  for (ResourceType type : kPushOrder) {
    if (auto response = Respond(type)) out.push_back(std::move(*response));
  }
  return out;
}

void SotwStream::RecordAckOrNack(ResourceType type, const DiscoveryRequest& request) {
  RecordReply(status_, type, request.response_nonce(), request.has_error_detail() ? &request.error_detail() : nullptr,
              clock_.Now(), callbacks_);
}

std::optional<SotwResponse> SotwStream::Respond(ResourceType type) {
  TypeState& state = types_[Index(type)];
  if (!state.requested || !snapshot_) return std::nullopt;

  // What the subscription selects from the snapshot, in name order.
  std::map<std::string_view, ResourcePtr> wanted;
  if (state.subscription.wildcard()) {
    for (const auto& [name, resource] : snapshot_->Resources(type)) wanted.emplace(name, resource);
  }
  for (const std::string& name : state.subscription.names()) {
    if (ResourcePtr resource = snapshot_->Find(type, name)) wanted.emplace(resource->name, resource);
  }

  SotwResponse response{type, snapshot_->Version(type), {}, {}};
  if (IsFullStateType(type)) {
    // The complete set every time, since a missing listener/cluster means deleted; but only when
    // it differs from what the client holds (or this type was never answered on this stream).
    bool changed = !state.responded || wanted.size() != state.sent.size();
    for (auto it = wanted.begin(); !changed && it != wanted.end(); ++it) {
      auto sent = state.sent.find(it->first);
      changed = sent == state.sent.end() || sent->second->version != it->second->version;
    }
    if (!changed) return std::nullopt;
    state.sent.clear();
    for (const auto& [name, resource] : wanted) {
      state.sent.emplace(resource->name, resource);
      response.resources.push_back(resource);
    }
  } else {
    // RDS/EDS: only what is new or changed for this client; absence means nothing here.
    for (const auto& [name, resource] : wanted) {
      auto sent = state.sent.find(name);
      if (sent != state.sent.end()) {
        if (sent->second->version == resource->version) continue;
        state.sent.erase(sent);  // its key views the old resource's name
      }
      state.sent.emplace(resource->name, resource);
      response.resources.push_back(resource);
    }
    if (response.resources.empty()) return std::nullopt;
  }

  state.responded = true;
  response.nonce = std::to_string(++next_nonce_);
  state.last_nonce = response.nonce;
  TypeStatus& type_status = status_.types[Index(type)];
  type_status.sent_version = response.version_info;
  type_status.sent_nonce = response.nonce;
  type_status.sent_at = clock_.Now();
  ++type_status.responses;
  return response;
}

}  // namespace cmesh::xds
