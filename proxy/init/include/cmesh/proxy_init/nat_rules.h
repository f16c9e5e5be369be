// The nat-table rules of one address family, laid out as istio-iptables lays them out, and their
// rendering as iptables-restore input. Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "cmesh/proxy_init/capture_config.h"
#include "cmesh/proxy_init/cidr.h"

namespace cmesh::proxy_init {

inline constexpr const char* kInboundChain = "ISTIO_INBOUND";
inline constexpr const char* kRedirectChain = "ISTIO_REDIRECT";
inline constexpr const char* kInRedirectChain = "ISTIO_IN_REDIRECT";
inline constexpr const char* kOutputChain = "ISTIO_OUTPUT";

// Our chains, in creation order. Only these, and rules that jump into them, are ever touched.
const std::vector<std::string>& OwnChains();

struct NatRules {
  // "-A CHAIN ..." lines in the order they must be appended, the jumps from PREROUTING and
  // OUTPUT included.
  std::vector<std::string> rules;
};

NatRules BuildNatRules(const CaptureConfig& config, IpFamily family);

// iptables-restore --noflush input for the nat table. Declaring our chains creates them or, when
// they exist, flushes them; `deletions` ("-D CHAIN ..." lines: jumps into our chains found in
// other chains) go before the new rules, so re-running leaves one copy of each rule.
std::string RenderApply(const NatRules& rules, const std::vector<std::string>& deletions);

// Input that removes the jumps into our chains (`deletions`) and then the chains that exist.
std::string RenderCleanup(const std::vector<std::string>& existing_chains,
                          const std::vector<std::string>& deletions);

}  // namespace cmesh::proxy_init
