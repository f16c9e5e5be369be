// What the nat table already holds of ours, read from `iptables-save -t nat` (or `iptables -t nat
// -S`, the same rule lines with "-N CHAIN" for chains).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cmesh::proxy_init {

struct NatState {
  std::vector<std::string> own_chains;  // those of OwnChains() that exist
  // "-D CHAIN ..." for every rule outside our chains whose target is one of our chains.
  std::vector<std::string> jump_deletions;
};

NatState ParseNatState(std::string_view save_output);

}  // namespace cmesh::proxy_init
