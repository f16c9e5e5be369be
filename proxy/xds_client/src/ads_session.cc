#include "cmesh/xds_client/ads_session.h"

#include <algorithm>

#include "cmesh/xds_client/references.h"

namespace cmesh::xds_client {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

namespace {

// How many resource errors one NACK spells out; the rest are counted.
constexpr std::size_t kMaxNackErrors = 8;
constexpr int kInvalidArgument = 3;  // google.rpc.Code, as Envoy NACKs

// Parses and validates one resource; on success fills `out` with its name and record (the
// decoded message itself is not kept: see xds_state.h).
template <typename T, typename Validate, typename NameOf>
bool DecodeOne(const std::string& bytes, Validate validate, NameOf name_of, std::string* name,
               std::shared_ptr<const ResourceRecord>* out, std::string* error) {
  T message;
  if (!message.ParseFromString(bytes)) return false;
  *name = name_of(message);
  *error = validate(message);
  if (error->empty()) *out = MakeRecord(message, bytes);
  return true;
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

}  // namespace

AdsSession::AdsSession(Options options)
    : options_(std::move(options)),
      validator_(options_.validator ? *options_.validator : default_validator_) {}

DiscoveryRequest AdsSession::Request(XdsType type) {
  TypeState& state = types_[Index(type)];
  DiscoveryRequest request;
  // The node goes in the first request of a stream only, as Envoy's
  // set_node_on_first_message_only: servers remember it per stream.
  if (!node_sent_) {
    *request.mutable_node() = options_.node;
    node_sent_ = true;
  }
  request.set_type_url(std::string(TypeUrl(type)));
  request.set_version_info(state.status.version);
  request.set_response_nonce(state.status.nonce);
  // The wildcard types send an empty list: the legacy wildcard every server understands.
  if (!IsWildcardType(type)) {
    for (const std::string& name : state.names) request.add_resource_names(name);
  }
  state.requested = true;
  return request;
}

std::vector<DiscoveryRequest> AdsSession::StartStream() {
  node_sent_ = false;
  for (TypeState& state : types_) {
    state.requested = false;
    state.status.nonce.clear();
  }
  std::vector<DiscoveryRequest> requests;
  for (XdsType type : kXdsTypes) {
    if (IsWildcardType(type) || !types_[Index(type)].names.empty()) requests.push_back(Request(type));
  }
  return requests;
}

std::vector<std::string> AdsSession::Decode(XdsType type, const DiscoveryResponse& response,
                                            std::vector<Decoded>* out) const {
  std::vector<std::string> errors;
  std::set<std::string, std::less<>> seen;
  int index = 0;
  for (const google::protobuf::Any& any : response.resources()) {
    const std::string where = std::string(KindName(type)) + " #" + std::to_string(index++);
    if (any.type_url() != response.type_url()) {
      errors.push_back(where + ": type URL " + any.type_url() + " in a response of " + response.type_url());
      continue;
    }
    Decoded decoded;
    std::string error;
    bool parsed = false;
    switch (type) {
      case XdsType::kCluster:
        parsed = DecodeOne<envoy::config::cluster::v3::Cluster>(
            any.value(), [&](const auto& m) { return validator_.ValidateCluster(m); },
            [](const auto& m) { return m.name(); }, &decoded.name, &decoded.stored, &error);
        break;
      case XdsType::kEndpoint:
        parsed = DecodeOne<envoy::config::endpoint::v3::ClusterLoadAssignment>(
            any.value(), [&](const auto& m) { return validator_.ValidateEndpoints(m); },
            [](const auto& m) { return m.cluster_name(); }, &decoded.name, &decoded.stored, &error);
        break;
      case XdsType::kListener:
        parsed = DecodeOne<envoy::config::listener::v3::Listener>(
            any.value(), [&](const auto& m) { return validator_.ValidateListener(m); },
            [](const auto& m) { return m.name(); }, &decoded.name, &decoded.stored, &error);
        break;
      case XdsType::kRoute:
        parsed = DecodeOne<envoy::config::route::v3::RouteConfiguration>(
            any.value(), [&](const auto& m) { return validator_.ValidateRoute(m); },
            [](const auto& m) { return m.name(); }, &decoded.name, &decoded.stored, &error);
        break;
    }
    if (!parsed) {
      errors.push_back(where + ": does not decode");
      continue;
    }
    const std::string label = decoded.name.empty() ? where : std::string(KindName(type)) + " " + Quoted(decoded.name);
    if (!error.empty()) {
      errors.push_back(label + ": " + error);
      continue;
    }
    if (!seen.insert(decoded.name).second) {
      errors.push_back(label + ": duplicate name in the response");
      continue;
    }
    out->push_back(std::move(decoded));
  }
  return errors;
}

template <typename State, typename F>
decltype(auto) AdsSession::ForType(State& state, XdsType type, F&& f) {
  switch (type) {
    case XdsType::kCluster: return f(state.clusters);
    case XdsType::kEndpoint: return f(state.endpoints);
    case XdsType::kListener: return f(state.listeners);
    case XdsType::kRoute: break;
  }
  return f(state.routes);
}

bool AdsSession::Has(XdsType type, std::string_view name) const {
  return ForType(accepted_, type, [&](const auto& map) { return map.contains(name); });
}

std::size_t AdsSession::Count(XdsType type) const {
  return ForType(accepted_, type, [](const auto& map) { return map.size(); });
}

bool AdsSession::Accept(XdsType type, std::vector<Decoded> decoded) {
  TypeState& state = types_[Index(type)];
  const bool changed = ForType(accepted_, type, [&](auto& map) {
    using Shared = std::remove_reference_t<decltype(map)>;
    using Map = typename Shared::Map;
    using Entry = typename Map::mapped_type;
    bool changed = false;
    if (IsWildcardType(type)) {
      // The complete set: whatever is absent is deleted.
      Map next;
      for (Decoded& d : decoded) {
        auto old = map.find(d.name);
        if (old != map.end() && old->second.hash() == d.stored->hash) {
          next.emplace(std::move(d.name), old->second);  // same object: consumers can compare them
        } else {
          changed = true;
          next.emplace(std::move(d.name), Entry(std::move(d.stored)));
        }
      }
      changed = changed || next.size() != map.size();
      // Unchanged, the map stays the one the delivered state shares.
      if (changed) map = Shared(std::move(next));
    } else {
      // One by one; absence means nothing, and names not subscribed to are not kept.
      for (Decoded& d : decoded) {
        if (!state.names.contains(d.name)) continue;
        auto old = map.find(d.name);
        if (old != map.end() && old->second.hash() == d.stored->hash) continue;
        changed = true;
        state.wanted_since.erase(d.name);
        map.Mutable().insert_or_assign(std::move(d.name), Entry(std::move(d.stored)));
      }
    }
    return changed;
  });
  state.status.resources = Count(type);
  return changed;
}

std::set<std::string, std::less<>> AdsSession::ReferencedNames(XdsType type) const {
  std::set<std::string, std::less<>> names;
  if (type != XdsType::kEndpoint && type != XdsType::kRoute) return names;
  // The records carry what each cluster and listener references (computed when it was decoded).
  const XdsType from = type == XdsType::kEndpoint ? XdsType::kCluster : XdsType::kListener;
  ForType(accepted_, from, [&](const auto& map) {
    for (const auto& [name, resource] : map) {
      if (resource.record()->references_itself) names.insert(name);
      names.insert(resource.record()->references.begin(), resource.record()->references.end());
    }
  });
  return names;
}

void AdsSession::Resubscribe(XdsType type, std::set<std::string, std::less<>> names, TimePoint now,
                             std::vector<DiscoveryRequest>* requests) {
  TypeState& state = types_[Index(type)];
  if (names == state.names) return;
  for (const std::string& name : names) {
    if (!Has(type, name)) state.wanted_since.try_emplace(name, now);
  }
  std::erase_if(state.wanted_since, [&](const auto& entry) { return !names.contains(entry.first); });
  const bool dropped = ForType(accepted_, type, [&](auto& map) {
    auto unsubscribed = [&](const auto& entry) { return !names.contains(entry.first); };
    if (std::none_of(map.begin(), map.end(), unsubscribed)) return false;  // no copy for nothing
    std::erase_if(map.Mutable(), unsubscribed);
    return true;
  });
  if (dropped) dirty_ = true;
  state.names = std::move(names);
  state.status.resources = Count(type);
  state.status.subscribed = state.names.size();
  // An empty list on a stream that never named anything would be read as the legacy wildcard;
  // once something was named it means "nothing", which is what we want then.
  if (state.requested || !state.names.empty()) requests->push_back(Request(type));
}

AdsSession::Outcome AdsSession::OnResponse(const DiscoveryResponse& response, TimePoint now) {
  Outcome outcome;
  std::optional<XdsType> type = TypeFromUrl(response.type_url());
  if (!type) {
    // Envoy ignores a type nothing watches; answering it could subscribe us to something.
    ++ignored_responses_;
    return outcome;
  }
  TypeState& state = types_[Index(*type)];
  state.status.nonce = response.nonce();

  std::vector<Decoded> decoded;
  std::vector<std::string> errors = Decode(*type, response, &decoded);
  if (!errors.empty()) {
    std::string message;
    for (std::size_t i = 0; i < errors.size() && i < kMaxNackErrors; ++i) {
      if (i > 0) message += "; ";
      message += errors[i];
    }
    if (errors.size() > kMaxNackErrors) {
      message += "; and " + std::to_string(errors.size() - kMaxNackErrors) + " more";
    }
    // The NACK keeps the previous version_info, as Envoy does; error_detail makes it a NACK.
    DiscoveryRequest nack = Request(*type);
    nack.mutable_error_detail()->set_code(kInvalidArgument);
    nack.mutable_error_detail()->set_message(message);
    outcome.requests.push_back(std::move(nack));
    ++state.status.nacks;
    last_nack_ = NackRecord{*type, response.version_info(), std::move(message), now};
    return outcome;
  }

  if (Accept(*type, std::move(decoded))) dirty_ = true;
  if (state.status.version != response.version_info() || !state.answered) dirty_ = true;
  state.status.version = response.version_info();
  state.answered = true;
  // Subscribe to what the new clusters/listeners reference before ACKing them, as Envoy does (it
  // pauses EDS while CDS is processed): a server then sends the dependencies first.
  if (*type == XdsType::kCluster || *type == XdsType::kListener) {
    XdsType next = *type == XdsType::kCluster ? XdsType::kEndpoint : XdsType::kRoute;
    Resubscribe(next, ReferencedNames(next), now, &outcome.requests);
  }
  outcome.requests.push_back(Request(*type));
  ++state.status.acks;
  outcome.config = MaybeDeliver(now);
  return outcome;
}

std::vector<std::string> AdsSession::Missing() const {
  std::vector<std::string> missing;
  for (XdsType type : {XdsType::kEndpoint, XdsType::kRoute}) {
    const TypeState& state = types_[Index(type)];
    for (const std::string& name : state.names) {
      if (!Has(type, name)) missing.push_back(std::string(ShortName(type)) + " " + name);
    }
  }
  return missing;
}

bool AdsSession::Tolerated(XdsType type, const std::string& name, TimePoint now) const {
  if (delivered_missing_.contains(std::string(ShortName(type)) + " " + name)) return true;  // no new hole
  const TypeState& state = types_[Index(type)];
  auto since = state.wanted_since.find(name);
  return since != state.wanted_since.end() && now - since->second >= options_.warming_timeout;
}

XdsStatePtr AdsSession::MaybeDeliver(TimePoint now) {
  // Nothing to serve before the complete sets of clusters and listeners.
  if (!types_[Index(XdsType::kCluster)].answered || !types_[Index(XdsType::kListener)].answered) return nullptr;
  if (delivered_ && !dirty_) return nullptr;

  bool all_answered = true;
  bool holes_tolerated = true;
  for (XdsType type : {XdsType::kEndpoint, XdsType::kRoute}) {
    const TypeState& state = types_[Index(type)];
    if (!state.answered && !state.names.empty()) all_answered = false;
    for (const std::string& name : state.names) {
      if (!Has(type, name) && !Tolerated(type, name, now)) holes_tolerated = false;
    }
  }
  // The very first state: once every type was answered, a hole is better than no config at all.
  bool deliver = holes_tolerated || (!delivered_ && all_answered);
  if (!deliver) return nullptr;
  return BuildState(Missing());
}

XdsStatePtr AdsSession::BuildState(std::vector<std::string> missing) {
  auto state = std::make_shared<XdsState>();
  // The maps are shared, not copied: the session copies one before it next changes it.
  state->clusters = accepted_.clusters;
  state->endpoints = accepted_.endpoints;
  state->listeners = accepted_.listeners;
  state->routes = accepted_.routes;
  for (XdsType type : kXdsTypes) state->versions[Index(type)] = types_[Index(type)].status.version;
  delivered_missing_ = std::set<std::string, std::less<>>(missing.begin(), missing.end());
  state->missing = std::move(missing);
  state->generation = delivered_ ? delivered_->generation + 1 : 1;
  delivered_ = state;
  dirty_ = false;
  return state;
}

XdsStatePtr AdsSession::OnTimer(TimePoint now) { return MaybeDeliver(now); }

std::optional<TimePoint> AdsSession::NextDeadline() const {
  if (!types_[Index(XdsType::kCluster)].answered || !types_[Index(XdsType::kListener)].answered) return std::nullopt;
  if (delivered_ && !dirty_) return std::nullopt;
  std::optional<TimePoint> next;
  for (XdsType type : {XdsType::kEndpoint, XdsType::kRoute}) {
    const TypeState& state = types_[Index(type)];
    for (const std::string& name : state.names) {
      if (Has(type, name)) continue;
      if (delivered_missing_.contains(std::string(ShortName(type)) + " " + name)) continue;
      auto since = state.wanted_since.find(name);
      if (since == state.wanted_since.end()) continue;
      TimePoint due = since->second + options_.warming_timeout;
      if (!next || due < *next) next = due;
    }
  }
  return next;
}

}  // namespace cmesh::xds_client
