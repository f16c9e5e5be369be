// cmesh-init's command-line arguments from a pod's traffic.sidecar.istio.io/* annotations
// (proxy/init/README.md maps each annotation to its flag).
#pragma once

#include <string>
#include <vector>

#include "cmesh/webhook/injection_policy.h"

namespace cmesh::webhook {

struct CaptureArgs {
  // "--flag", "value" pairs, in the order of the table below; only the annotations present.
  std::vector<std::string> args;
  // A value cmesh-init would refuse (it exits 2 and the pod never starts): one message per
  // annotation naming it and the bad item. Non-empty means "do not inject".
  std::vector<std::string> errors;
  // traffic.sidecar.istio.io/* annotations cmesh-init has no flag for (ignored).
  std::vector<std::string> warnings;
};

// annotation (under traffic.sidecar.istio.io/)  ->  flag
//   includeInboundPorts       --inbound-ports               "*", "" or ports
//   excludeInboundPorts       --exclude-inbound-ports       ports
//   includeOutboundPorts      --outbound-ports              ports
//   excludeOutboundPorts      --exclude-outbound-ports      ports
//   includeOutboundIPRanges   --include-outbound-ip-ranges  "*", "" or CIDRs
//   excludeOutboundIPRanges   --exclude-outbound-ip-ranges  CIDRs
// Values are checked as cmesh-init checks them (ports 1-65535, IPv4/IPv6 CIDRs or addresses),
// and passed on with the spaces around items removed.
CaptureArgs CaptureArgsFromAnnotations(const Labels& annotations);

}  // namespace cmesh::webhook
