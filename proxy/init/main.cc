// cmesh-init: installs, prints or removes the pod's traffic-capture rules (see Usage()).
#include <iostream>
#include <string>
#include <vector>

#include "cmesh/proxy_init/flags.h"
#include "cmesh/proxy_init/iptables.h"
#include "cmesh/proxy_init/nat_rules.h"

namespace {

using namespace cmesh::proxy_init;

const char* FamilyName(IpFamily family) { return family == IpFamily::kV4 ? "IPv4" : "IPv6"; }
const char* RestoreTool(IpFamily family) {
  return family == IpFamily::kV4 ? "iptables-restore" : "ip6tables-restore";
}

int DryRun(const Options& options, const std::vector<IpFamily>& families) {
  for (IpFamily family : families) {
    std::cout << "# " << RestoreTool(family) << " --noflush input (" << FamilyName(family)
              << ")\n";
    if (options.cleanup) {
      std::cout << "# at run time the jumps into these chains are read from the nat table; "
                   "shown here as cmesh-init creates them\n"
                << RenderCleanup(OwnChains(), {"-D PREROUTING -p tcp -j ISTIO_INBOUND",
                                               "-D OUTPUT -p tcp -j ISTIO_OUTPUT"});
    } else {
      std::cout << "# at run time, jumps into these chains already present are deleted first\n"
                << RenderApply(BuildNatRules(options.capture, family), {});
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = ParseFlags(args);
  if (auto* error = std::get_if<FlagError>(&parsed)) {
    std::cerr << "cmesh-init: " << error->message << "\n";
    return 2;
  }
  const Options& options = std::get<Options>(parsed);
  if (options.help) {
    std::cout << Usage();
    return 0;
  }
  std::vector<IpFamily> families = {IpFamily::kV4};
  const Ipv6Mode ipv6 = options.capture.ipv6;
  if (ipv6 == Ipv6Mode::kOn || (ipv6 == Ipv6Mode::kAuto && HasGlobalIpv6Address())) {
    families.push_back(IpFamily::kV6);
  }
  if (options.dry_run) return DryRun(options, families);

  Runner runner = [](const std::vector<std::string>& command, const std::string& input) {
    return RunProcess(command, input);
  };
  for (IpFamily family : families) {
    IptablesResult result = options.cleanup
                                ? CleanupCapture(family, runner, std::cerr)
                                : ApplyCapture(options.capture, family, runner, std::cerr);
    if (!result.ok) {
      std::cerr << "cmesh-init: " << FamilyName(family) << ": " << result.error << "\n";
      return 1;
    }
    if (options.cleanup) {
      std::cerr << "cmesh-init: " << FamilyName(family) << " capture rules removed\n";
    } else {
      std::cerr << "cmesh-init: " << FamilyName(family) << " capture rules installed (outbound to "
                << options.capture.outbound_capture_port << ", inbound to "
                << options.capture.inbound_capture_port << ")\n";
    }
  }
  return 0;
}
