// VirtualService chaining (Istio's delegate VirtualServices): how a root http rule with
// `delegate` and each http rule of the delegate VirtualService merge into one rule, following
// Istio's mergeHTTPRoute / mergeHTTPMatchRequests / hasConflict semantics.
#pragma once

#include <optional>

#include "cmesh/model/virtual_service.h"

namespace cmesh::compiler {

// Whether a delegate match can narrow a root match: every condition both set must be
// compatible (a delegate uri/scheme/method/authority/header/query prefix or exact must lie
// within the root's; a regex on either side conflicts with any other matcher on the other;
// ignoreUriCase equal; port, sourceNamespace, sourceLabels and gateways not contradicting).
bool MatchesConflict(const model::HTTPMatchRequest& root, const model::HTTPMatchRequest& delegate);

// The delegate match with the root's conditions filled in where the delegate leaves them unset
// (headers, query params and withoutHeaders are unions, the delegate winning per key; names
// join as "root-delegate").
model::HTTPMatchRequest MergeMatch(const model::HTTPMatchRequest& root, const model::HTTPMatchRequest& delegate);

// The merged rule: matches merged pairwise (each delegate match with every root match it does
// not conflict with; no root matches → the delegate's; no delegate matches → the root's), then
// the delegate's settings, with the root's rewrite, timeout, retries, fault, mirror(s), CORS
// policy and headers where the delegate has none, and names joined as "root-delegate".
// nullopt when some delegate match conflicts with every root match: Istio drops the rule.
std::optional<model::HTTPRoute> MergeDelegateRoute(const model::HTTPRoute& root, const model::HTTPRoute& delegate);

}  // namespace cmesh::compiler
