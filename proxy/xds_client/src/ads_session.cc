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

template <typename T>
std::shared_ptr<T> Parse(const std::string& bytes) {
  auto message = std::make_shared<T>();
  if (!message->ParseFromString(bytes)) return nullptr;
  return message;
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

}  // namespace

std::uint64_t HashBytes(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

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
    switch (type) {
      case XdsType::kCluster:
        if (auto cluster = Parse<envoy::config::cluster::v3::Cluster>(any.value())) {
          decoded.name = cluster->name();
          error = validator_.ValidateCluster(*cluster);
          decoded.stored.proto = std::move(cluster);
        }
        break;
      case XdsType::kEndpoint:
        if (auto assignment = Parse<envoy::config::endpoint::v3::ClusterLoadAssignment>(any.value())) {
          decoded.name = assignment->cluster_name();
          error = validator_.ValidateEndpoints(*assignment);
          decoded.stored.proto = std::move(assignment);
        }
        break;
      case XdsType::kListener:
        if (auto listener = Parse<envoy::config::listener::v3::Listener>(any.value())) {
          decoded.name = listener->name();
          error = validator_.ValidateListener(*listener);
          decoded.stored.proto = std::move(listener);
        }
        break;
      case XdsType::kRoute:
        if (auto route = Parse<envoy::config::route::v3::RouteConfiguration>(any.value())) {
          decoded.name = route->name();
          error = validator_.ValidateRoute(*route);
          decoded.stored.proto = std::move(route);
        }
        break;
    }
    if (!decoded.stored.proto) {
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
    decoded.stored.hash = HashBytes(any.value());
    out->push_back(std::move(decoded));
  }
  return errors;
}

bool AdsSession::Accept(XdsType type, std::vector<Decoded> decoded) {
  TypeState& state = types_[Index(type)];
  bool changed = false;
  if (IsWildcardType(type)) {
    // The complete set: whatever is absent is deleted.
    std::map<std::string, Stored, std::less<>> next;
    for (Decoded& d : decoded) {
      auto old = state.resources.find(d.name);
      if (old != state.resources.end() && old->second.hash == d.stored.hash) {
        next.emplace(std::move(d.name), old->second);  // same object: consumers can compare pointers
      } else {
        changed = true;
        next.emplace(std::move(d.name), std::move(d.stored));
      }
    }
    changed = changed || next.size() != state.resources.size();
    state.resources = std::move(next);
  } else {
    // One by one; absence means nothing, and names not subscribed to are not kept.
    for (Decoded& d : decoded) {
      if (!state.names.contains(d.name)) continue;
      auto old = state.resources.find(d.name);
      if (old != state.resources.end() && old->second.hash == d.stored.hash) continue;
      changed = true;
      state.resources.insert_or_assign(std::move(d.name), std::move(d.stored));
    }
  }
  state.status.resources = state.resources.size();
  return changed;
}

std::set<std::string, std::less<>> AdsSession::ReferencedNames(XdsType type) const {
  std::set<std::string, std::less<>> names;
  if (type == XdsType::kEndpoint) {
    for (const auto& [name, stored] : types_[Index(XdsType::kCluster)].resources) {
      if (auto service = EdsServiceName(static_cast<const envoy::config::cluster::v3::Cluster&>(*stored.proto))) {
        names.insert(*service);
      }
    }
  } else if (type == XdsType::kRoute) {
    for (const auto& [name, stored] : types_[Index(XdsType::kListener)].resources) {
      AddRdsNames(static_cast<const envoy::config::listener::v3::Listener&>(*stored.proto), names);
    }
  }
  return names;
}

void AdsSession::Resubscribe(XdsType type, std::set<std::string, std::less<>> names, TimePoint now,
                             std::vector<DiscoveryRequest>* requests) {
  TypeState& state = types_[Index(type)];
  if (names == state.names) return;
  for (const std::string& name : names) state.wanted_since.try_emplace(name, now);
  std::erase_if(state.wanted_since, [&](const auto& entry) { return !names.contains(entry.first); });
  std::size_t before = state.resources.size();
  std::erase_if(state.resources, [&](const auto& entry) { return !names.contains(entry.first); });
  if (state.resources.size() != before) dirty_ = true;
  state.names = std::move(names);
  state.status.resources = state.resources.size();
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
      if (!state.resources.contains(name)) missing.push_back(std::string(ShortName(type)) + " " + name);
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
      if (!state.resources.contains(name) && !Tolerated(type, name, now)) holes_tolerated = false;
    }
  }
  // The very first state: once every type was answered, a hole is better than no config at all.
  bool deliver = holes_tolerated || (!delivered_ && all_answered);
  if (!deliver) return nullptr;
  return BuildState(Missing());
}

XdsStatePtr AdsSession::BuildState(std::vector<std::string> missing) {
  auto state = std::make_shared<XdsState>();
  auto fill = [&](XdsType type, auto& map) {
    using Map = std::remove_reference_t<decltype(map)>;
    using T = typename Map::mapped_type::element_type;
    for (const auto& [name, stored] : types_[Index(type)].resources) {
      map.emplace(name, std::static_pointer_cast<T>(stored.proto));
    }
    state->versions[Index(type)] = types_[Index(type)].status.version;
  };
  fill(XdsType::kCluster, state->clusters);
  fill(XdsType::kEndpoint, state->endpoints);
  fill(XdsType::kListener, state->listeners);
  fill(XdsType::kRoute, state->routes);
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
      if (state.resources.contains(name)) continue;
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
