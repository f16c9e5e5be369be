#include "delegate_merge.h"

#include <algorithm>
#include <set>
#include <string_view>

namespace cmesh::compiler {
namespace {

using Kind = model::StringMatch::Kind;

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Istio's stringMatchConflict. An unset side (or the empty "present" match) never conflicts.
bool StringMatchConflict(const model::StringMatch* root, const model::StringMatch* leaf) {
  if (root == nullptr || leaf == nullptr) return false;
  const bool root_set = root->kind != Kind::kAny;
  const bool leaf_set = leaf->kind != Kind::kAny;
  if (root->kind == Kind::kRegex && leaf_set) return true;
  if (leaf->kind == Kind::kRegex && root_set) return true;
  if (root->kind == Kind::kExact) {
    // A delegate prefix must be a prefix of the root's exact value; two exacts must be equal.
    if (leaf->kind == Kind::kPrefix && !StartsWith(root->value, leaf->value)) return true;
    if (leaf->kind == Kind::kExact && root->value != leaf->value) return true;
  }
  if (root->kind == Kind::kPrefix) {
    // A delegate prefix or exact value must start with the root's prefix.
    if ((leaf->kind == Kind::kPrefix || leaf->kind == Kind::kExact) && !StartsWith(leaf->value, root->value)) {
      return true;
    }
  }
  return false;
}

const model::StringMatch* Ptr(const std::optional<model::StringMatch>& m) { return m ? &*m : nullptr; }

const model::StringMatch* Find(const std::map<std::string, model::StringMatch>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

bool MapConflict(const std::map<std::string, model::StringMatch>& root,
                 const std::map<std::string, model::StringMatch>& leaf) {
  for (const auto& [key, value] : leaf) {
    if (StringMatchConflict(Find(root, key), &value)) return true;
  }
  return false;
}

std::string JoinNames(const std::string& root, const std::string& delegate) {
  if (delegate.empty()) return root;
  if (root.empty()) return delegate;
  return root + "-" + delegate;
}

// Root entries first, then the delegate's, which win on equal keys.
template <typename Map>
Map Union(const Map& root, const Map& delegate) {
  Map out = delegate;
  for (const auto& [k, v] : root) out.emplace(k, v);
  return out;
}

}  // namespace

bool MatchesConflict(const model::HTTPMatchRequest& root, const model::HTTPMatchRequest& leaf) {
  if (StringMatchConflict(Ptr(root.uri), Ptr(leaf.uri)) || StringMatchConflict(Ptr(root.scheme), Ptr(leaf.scheme)) ||
      StringMatchConflict(Ptr(root.method), Ptr(leaf.method)) ||
      StringMatchConflict(Ptr(root.authority), Ptr(leaf.authority))) {
    return true;
  }
  if (MapConflict(root.headers, leaf.headers) || MapConflict(root.without_headers, leaf.without_headers) ||
      MapConflict(root.query_params, leaf.query_params)) {
    return true;
  }
  if (root.ignore_uri_case != leaf.ignore_uri_case) return true;
  if (root.port && leaf.port && *root.port != *leaf.port) return true;
  if (!root.source_namespace.empty() && leaf.source_namespace != root.source_namespace) return true;
  for (const auto& [k, v] : leaf.source_labels) {
    auto it = root.source_labels.find(k);
    if (it != root.source_labels.end() && it->second != v) return true;
  }
  // The root's gateways must be a superset of the delegate's.
  if (!root.gateways.empty() && !leaf.gateways.empty()) {
    std::set<std::string> root_gateways(root.gateways.begin(), root.gateways.end());
    for (const auto& g : leaf.gateways) {
      if (root_gateways.count(g) == 0) return true;
    }
  }
  return false;
}

model::HTTPMatchRequest MergeMatch(const model::HTTPMatchRequest& root, const model::HTTPMatchRequest& delegate) {
  model::HTTPMatchRequest out = delegate;
  out.name = JoinNames(root.name, delegate.name);
  if (!out.uri) out.uri = root.uri;
  if (!out.scheme) out.scheme = root.scheme;
  if (!out.method) out.method = root.method;
  if (!out.authority) out.authority = root.authority;
  out.headers = Union(root.headers, delegate.headers);
  out.without_headers = Union(root.without_headers, delegate.without_headers);
  out.query_params = Union(root.query_params, delegate.query_params);
  if (!out.port) out.port = root.port;
  out.source_labels = Union(root.source_labels, delegate.source_labels);
  if (out.source_namespace.empty()) out.source_namespace = root.source_namespace;
  if (out.gateways.empty()) out.gateways = root.gateways;
  if (out.stat_prefix.empty()) out.stat_prefix = root.stat_prefix;
  return out;
}

std::optional<model::HTTPRoute> MergeDelegateRoute(const model::HTTPRoute& root, const model::HTTPRoute& delegate) {
  model::HTTPRoute out = delegate;
  if (root.match.empty()) {
    // The delegate's matches as they are.
  } else if (delegate.match.empty()) {
    out.match = root.match;
  } else {
    out.match.clear();
    for (const auto& leaf : delegate.match) {
      bool found = false;
      for (const auto& r : root.match) {
        if (MatchesConflict(r, leaf)) continue;
        out.match.push_back(MergeMatch(r, leaf));
        found = true;
      }
      if (!found) return std::nullopt;
    }
  }
  out.name = JoinNames(root.name, delegate.name);
  if (!out.rewrite) out.rewrite = root.rewrite;
  if (!out.direct_response) out.direct_response = root.direct_response;
  if (!out.timeout) out.timeout = root.timeout;
  if (!out.retries) out.retries = root.retries;
  if (!out.fault) out.fault = root.fault;
  if (!out.mirror) out.mirror = root.mirror;
  if (!out.mirror_percentage) out.mirror_percentage = root.mirror_percentage;
  if (out.mirrors.empty()) out.mirrors = root.mirrors;
  if (!out.cors_policy) out.cors_policy = root.cors_policy;
  // Istio takes the root's headers only when the delegate sets none at all.
  if (out.headers.request.empty() && out.headers.response.empty()) out.headers = root.headers;
  out.delegate.reset();
  return out;
}

}  // namespace cmesh::compiler
