#include "cmesh/xds/subscription.h"

namespace cmesh::xds {

namespace {
constexpr std::string_view kWildcard = "*";
}

void Subscription::ApplySotw(const NameList& names) {
  names_.clear();
  wildcard_ = false;
  if (names.empty()) {
    wildcard_ = !ever_named_ && WildcardAllowed();
    return;
  }
  ever_named_ = true;
  for (const std::string& name : names) {
    if (name == kWildcard && WildcardAllowed()) {
      wildcard_ = true;
    } else {
      names_.insert(name);
    }
  }
}

void Subscription::ApplyDelta(const NameList& subscribe, const NameList& unsubscribe, bool first_request) {
  if (first_request && subscribe.empty() && WildcardAllowed()) wildcard_ = true;
  for (const std::string& name : subscribe) {
    if (name == kWildcard && WildcardAllowed()) {
      wildcard_ = true;
    } else {
      names_.insert(name);
    }
  }
  for (const std::string& name : unsubscribe) {
    if (name == kWildcard && WildcardAllowed()) {
      wildcard_ = false;
    } else {
      names_.erase(name);
    }
  }
}

}  // namespace cmesh::xds
