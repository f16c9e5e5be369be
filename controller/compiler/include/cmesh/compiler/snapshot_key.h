// What decides a proxy's output. Two proxies with equal snapshot keys get byte-identical
// XdsResources from the same index and options, so an xDS server can compile once per key and
// share the snapshot.
#pragma once

#include <string>

#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/proxy_node.h"

namespace cmesh::compiler {

// The key is made of: the proxy's namespace; its labels (explicit, else its pod's labels from
// the config) restricted to the keys that can matter (sourceLabels of VirtualService matches,
// DestinationRule workloadSelectors, Service selectors); and its pod's named container ports
// (they resolve named target ports of inbound clusters); and, for IPv6 proxies only, ";ip6" (the
// address family decides the DNS lookup family of DNS clusters). The IP itself, pod name and
// other labels do not appear in the output and are not part of the key. Readable, e.g.
// "ns=default;labels=app=reviews,version=v1;ports=http=9080".
std::string ProxySnapshotKey(const ConfigIndex& index, const ProxyNode& proxy);

}  // namespace cmesh::compiler
