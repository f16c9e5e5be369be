// REST paths of the Kubernetes API: core (/api/v1) and named groups (/apis/GROUP/VERSION),
// namespaced and cluster-scoped, with percent-encoded names and query values.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cmesh/kube/kube_client.h"

namespace cmesh::kube {

// Percent-encodes everything but RFC 3986's unreserved characters, so selectors such as
// `app in (a,b),tier!=db` survive as one query value.
std::string PercentEncode(std::string_view text);

// /api/v1 or /apis/GROUP/VERSION.
std::string GroupVersionPath(const ResourceKind& kind);

// The collection: .../namespaces/NS/PLURAL, or .../PLURAL for every namespace (empty ns) and for
// cluster-scoped kinds (ns is ignored).
std::string CollectionPath(const ResourceKind& kind, const std::string& ns);

// One object, optionally a subresource of it ("status").
std::string ObjectPath(const ResourceKind& kind, const std::string& ns, const std::string& name,
                       const std::string& subresource = "");

// Appends ?k=v&... in the given order; parameters with an empty value are left out.
std::string WithQuery(std::string path, const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace cmesh::kube
