// Which resources of one type a stream wants: explicit names and/or the wildcard, with the
// legacy-wildcard rules of the xDS protocol for both protocol variants.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/repeated_ptr_field.h>

#include "cmesh/xds/name_set.h"
#include "cmesh/xds/resource_type.h"

namespace cmesh::xds {

using NameList = google::protobuf::RepeatedPtrField<std::string>;

class Subscription {
 public:
  explicit Subscription(ResourceType type) : type_(type) {}

  // State of the world: each request carries the complete list. An empty list is the legacy
  // wildcard only while the stream has never named anything for this type; afterwards it means
  // "unsubscribe from everything" (gRPC sends that when a channel closes). `*` is a wildcard for
  // LDS/CDS only; for RDS/EDS it is an ordinary (non-existent) name.
  void ApplySotw(const NameList& names);

  // Delta: changes relative to the current state. The first request with an empty subscribe list
  // is the legacy wildcard; `*` subscribes or unsubscribes the wildcard explicitly.
  void ApplyDelta(const NameList& subscribe, const NameList& unsubscribe, bool first_request);

  bool wildcard() const { return wildcard_; }
  // The explicit names (interned: equal subscriptions share one set).
  const NameSet& names() const { return *names_; }
  const NameSetPtr& shared_names() const { return names_; }
  bool Wants(std::string_view name) const { return wildcard_ || names_->contains(name); }

 private:
  bool WildcardAllowed() const { return IsFullStateType(type_); }

  ResourceType type_;
  bool wildcard_ = false;
  bool ever_named_ = false;
  NameSetPtr names_ = InternNameSet({});
};

}  // namespace cmesh::xds
