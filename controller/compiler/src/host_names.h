// Host name rules shared by the index and the builders: short names are relative to the
// namespace of the object that names them, wildcards match by suffix, exportTo limits visibility.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cmesh/model/common.h"

namespace cmesh::compiler {

// "reviews" in namespace "default" → "reviews.default.svc.cluster.local"; "reviews.other" →
// "reviews.other.svc.cluster.local"; names with two or more dots, "*" and "*.x" stay as given.
std::string ResolveHost(std::string_view host, std::string_view ns, std::string_view domain_suffix);

std::string ServiceFqdn(std::string_view name, std::string_view ns, std::string_view domain_suffix);

// Whether `pattern` ("*", "*.default.svc.cluster.local" or an exact name) matches `fqdn`.
bool HostMatches(std::string_view pattern, std::string_view fqdn);

inline bool IsWildcard(std::string_view host) { return !host.empty() && host[0] == '*'; }

// exportTo: empty or "*" → every namespace; "." → the object's own namespace; "~" → none;
// otherwise the named namespaces.
bool VisibleTo(const std::vector<std::string>& export_to, std::string_view object_ns,
               std::string_view proxy_ns);

// Every key/value of `selector` is in `labels` (an empty selector matches everything).
bool LabelsContain(const model::Labels& labels, const model::Labels& selector);

}  // namespace cmesh::compiler
