// cmeshctl: validate, compile and explain mesh configuration without a cluster.
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"

namespace {

const char kUsage[] =
    "cmeshctl: Istio-compatible traffic configuration, compiled and explained offline.\n"
    "\n"
    "Usage: cmeshctl COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  validate   check VirtualServices, DestinationRules and Kubernetes objects\n"
    "  compile    print the Envoy resources (LDS, RDS, CDS, EDS) of one proxy\n"
    "  simulate   explain which route a request from a proxy takes, and where it goes\n"
    "  version    print the version\n"
    "\n"
    "Run `cmeshctl COMMAND --help` for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return cmesh::cli::kExitUsage;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << kUsage;
    return cmesh::cli::kExitOk;
  }
  if (command == "version" || command == "--version") {
    std::cout << "cmeshctl " << CMESH_VERSION << "\n";
    return cmesh::cli::kExitOk;
  }
  if (command == "validate") return cmesh::cli::RunValidate(args, std::cout, std::cerr);
  if (command == "compile") return cmesh::cli::RunCompile(args, std::cout, std::cerr);
  if (command == "simulate") return cmesh::cli::RunSimulate(args, std::cout, std::cerr);
  std::cerr << "error: unknown command \"" << command << "\"\n\n" << kUsage;
  return cmesh::cli::kExitUsage;
}
