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

namespace {

// The resources of `type` in `snapshot` that a subscription (wildcard, names) selects, in name
// order.
std::vector<ResourcePtr> Selected(const Snapshot& snapshot, ResourceType type, bool wildcard, const NameSet& names) {
  std::vector<ResourcePtr> out;
  if (wildcard) {
    out.reserve(snapshot.Resources(type).size());
    for (const auto& [name, resource] : snapshot.Resources(type)) out.push_back(resource);
    return out;
  }
  for (const std::string& name : names) {
    if (ResourcePtr resource = snapshot.Find(type, name)) out.push_back(std::move(resource));
  }
  return out;
}

bool SameResources(const std::vector<ResourcePtr>& a, const std::vector<ResourcePtr>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && (a[i]->name != b[i]->name || a[i]->version != b[i]->version)) return false;
  }
  return true;
}

}  // namespace

std::optional<SotwResponse> SotwStream::Respond(ResourceType type) {
  TypeState& state = types_[Index(type)];
  if (!state.requested || !snapshot_) return std::nullopt;
  const NameSetPtr& names = state.subscription.shared_names();
  const bool wildcard = state.subscription.wildcard();
  const bool same_subscription = state.held_from && state.held_names == names && state.held_wildcard == wildcard;
  auto remember = [&] {
    state.held_from = snapshot_;
    state.held_names = names;
    state.held_wildcard = wildcard;
  };

  SotwResponse response{type, snapshot_->Version(type), {}, {}};
  if (IsFullStateType(type)) {
    // The complete set every time, since a missing listener/cluster means deleted; but only when
    // it differs from what the client holds (or this type was never answered on this stream).
    bool changed = !state.responded || !state.held_from;
    if (!changed && same_subscription) {
      // A wildcard selects the whole type, whose version digests every (name, version) pair.
      changed = state.held_from != snapshot_ &&
                (wildcard ? state.held_from->Version(type) != snapshot_->Version(type)
                          : !SameResources(Selected(*state.held_from, type, false, *names),
                                           Selected(*snapshot_, type, false, *names)));
    } else if (!changed) {
      // What the client still holds: what it was sent that it still subscribes to (it dropped
      // the rest itself when it unsubscribed).
      std::vector<ResourcePtr> still;
      for (ResourcePtr& r : Selected(*state.held_from, type, state.held_wildcard, *state.held_names)) {
        if (wildcard || names->contains(r->name)) still.push_back(std::move(r));
      }
      changed = !SameResources(still, Selected(*snapshot_, type, wildcard, *names));
    }
    remember();
    if (!changed) return std::nullopt;
    response.resources = Selected(*snapshot_, type, wildcard, *names);
  } else {
    // RDS/EDS: only what is new or changed for this client; absence means nothing here.
    if (!state.held_from) {
      response.resources = Selected(*snapshot_, type, wildcard, *names);
    } else if (same_subscription) {
      if (state.held_from != snapshot_ && state.held_from->Version(type) != snapshot_->Version(type)) {
        for (std::string_view name : *snapshot_->ChangedSince(state.held_from, type)) {
          if (wildcard || names->contains(name)) response.resources.push_back(snapshot_->Find(type, name));
        }
      }
    } else {
      // The subscription changed: each selected resource the client does not hold as it is now.
      for (ResourcePtr& resource : Selected(*snapshot_, type, wildcard, *names)) {
        const bool held = state.held_wildcard || state.held_names->contains(resource->name);
        ResourcePtr before = held ? state.held_from->Find(type, resource->name) : nullptr;
        if (!before || before->version != resource->version) response.resources.push_back(std::move(resource));
      }
    }
    remember();
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
