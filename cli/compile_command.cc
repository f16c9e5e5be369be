// cmeshctl compile: the Envoy resources one proxy receives, as JSON or YAML.
#include <algorithm>
#include <iomanip>
#include <ostream>

#include "args.h"
#include "commands.h"
#include "proxy_inputs.h"
#include "resource_output.h"

namespace cmesh::cli {
namespace {

std::string Help() {
  return std::string(
             "Usage: cmeshctl compile -f PATH... --proxy NODE_ID [--proxy-labels K=V,...] [-o json|yaml]\n"
             "                        [--name NAME] [--summary]\n"
             "\n"
             "Prints the Envoy v3 resources the proxy receives as ONE object:\n"
             "  {\"listeners\":[...],\"routes\":[...],\"clusters\":[...],\"endpoints\":[...]}\n"
             "each element in protobuf's JSON mapping (as `istioctl proxy-config ... -o json`).\n"
             "\n"
             "Invalid objects are reported on stderr and left out, the way Istio keeps serving the\n"
             "valid configuration: the output is still printed, and the exit status is 1.\n"
             "\n"
             "Options:\n") +
         kProxyOptionsHelp +
         "  -o, --output json|yaml   output format (default json)\n"
         "      --name NAME          keep only the resources named NAME (a cluster and its\n"
         "                           ClusterLoadAssignment share one name)\n"
         "      --summary            print one line per resource: type, name, version\n"
         "  -h, --help               show this help\n"
         "\n"
         "Exit status: 0 success, 1 configuration errors, 2 usage error.\n";
}

std::string ResourceName(const envoy::config::listener::v3::Listener& r) { return r.name(); }
std::string ResourceName(const envoy::config::route::v3::RouteConfiguration& r) { return r.name(); }
std::string ResourceName(const envoy::config::cluster::v3::Cluster& r) { return r.name(); }
std::string ResourceName(const envoy::config::endpoint::v3::ClusterLoadAssignment& r) {
  return r.cluster_name();
}

template <typename T>
void KeepNamed(std::vector<compiler::Versioned<T>>& list, const std::string& name) {
  std::erase_if(list, [&](const compiler::Versioned<T>& v) { return ResourceName(v.resource) != name; });
}

template <typename T>
void PrintSummary(const char* type, const std::vector<compiler::Versioned<T>>& list, std::ostream& out) {
  for (const auto& v : list) {
    out << std::left << std::setw(10) << type << " " << std::setw(64) << ResourceName(v.resource) << " "
        << v.version << "\n";
  }
}

}  // namespace

int RunCompile(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto specs = ProxyOptionSpecs();
  specs.push_back({{"-o", "--output"}, true, false});
  specs.push_back({{"--name"}, true, false});
  specs.push_back({{"--summary"}, false, false});
  int exit_code = kExitOk;
  auto args = ParseCommandLine(argv, specs, Help(), out, err, &exit_code);
  if (!args) return exit_code;
  const std::string format = args->Get("output", "json");
  if (format != "json" && format != "yaml") {
    err << "error: -o must be json or yaml\n";
    return kExitUsage;
  }
  auto inputs = LoadProxyInputs(*args, err, &exit_code);
  if (!inputs) {
    if (exit_code == kExitUsage) err << "\n" << Help();
    return exit_code;
  }
  compiler::XdsResources resources = CompileFor(*inputs, err);
  if (args->Has("name")) {
    const std::string name = args->Get("name", "");
    KeepNamed(resources.listeners, name);
    KeepNamed(resources.routes, name);
    KeepNamed(resources.clusters, name);
    KeepNamed(resources.endpoints, name);
  }
  if (args->Has("summary")) {
    PrintSummary("listener", resources.listeners, out);
    PrintSummary("route", resources.routes, out);
    PrintSummary("cluster", resources.clusters, out);
    PrintSummary("endpoints", resources.endpoints, out);
    return exit_code;
  }
  std::string error;
  auto text = format == "json" ? ResourcesToJson(resources, &error) : ResourcesToYaml(resources, &error);
  if (!text) {
    err << "error: " << error << "\n";
    return kExitFailure;
  }
  out << *text;
  return exit_code;
}

}  // namespace cmesh::cli
