#include "cmesh/xds/subscription.h"

namespace cmesh::xds {

namespace {
constexpr std::string_view kWildcard = "*";
}

void Subscription::ApplySotw(const NameList& names) {
  wildcard_ = false;
  if (names.empty()) {
    names_ = InternNameSet({});
    wildcard_ = !ever_named_ && WildcardAllowed();
    return;
  }
  ever_named_ = true;
  std::vector<std::string> explicit_names;
  explicit_names.reserve(static_cast<std::size_t>(names.size()));
  for (const std::string& name : names) {
    if (name == kWildcard && WildcardAllowed()) {
      wildcard_ = true;
    } else {
      explicit_names.push_back(name);
    }
  }
  names_ = InternNameSet(std::move(explicit_names));
}

void Subscription::ApplyDelta(const NameList& subscribe, const NameList& unsubscribe, bool first_request) {
  if (first_request && subscribe.empty() && WildcardAllowed()) wildcard_ = true;
  std::vector<std::string> updated(names_->begin(), names_->end());
  for (const std::string& name : subscribe) {
    if (name == kWildcard && WildcardAllowed()) {
      wildcard_ = true;
    } else {
      updated.push_back(name);
    }
  }
  for (const std::string& name : unsubscribe) {
    if (name == kWildcard && WildcardAllowed()) {
      wildcard_ = false;
    } else {
      std::erase(updated, name);
    }
  }
  names_ = InternNameSet(std::move(updated));
}

}  // namespace cmesh::xds
