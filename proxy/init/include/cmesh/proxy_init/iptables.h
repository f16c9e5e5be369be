// Applies or removes the capture rules of one address family through the iptables tools.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cmesh/proxy_init/capture_config.h"
#include "cmesh/proxy_init/cidr.h"
#include "cmesh/proxy_init/process.h"

namespace cmesh::proxy_init {

// The runner is injectable so the error wording can be tested without iptables.
using Runner = std::function<ProcessResult(const std::vector<std::string>&, const std::string&)>;

struct IptablesResult {
  bool ok = false;
  std::string error;  // what failed and what to do about it
};

// Reads the nat table, then replaces our chains and the jumps into them in one
// `iptables-restore --noflush` transaction. Without iptables-restore (but with iptables) it falls
// back to one iptables command per line and says so on `notes`.
IptablesResult ApplyCapture(const CaptureConfig& config, IpFamily family, const Runner& run,
                            std::ostream& notes);

// Removes the jumps into our chains and our chains; nothing else.
IptablesResult CleanupCapture(IpFamily family, const Runner& run, std::ostream& notes);

// The message for a failed iptables tool: a missing binary (install the iptables package), a
// permission error (the process lacks CAP_NET_ADMIN), or the tool's own output.
std::string DescribeFailure(const std::string& tool, const ProcessResult& result);

// Whether the current network namespace has a global IPv6 address (/proc/net/if_inet6).
bool HasGlobalIpv6Address();

}  // namespace cmesh::proxy_init
