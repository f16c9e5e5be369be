// What compile and simulate share: the config files, the proxy they compile for, mesh options.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "cmesh/compiler/mesh_options.h"
#include "cmesh/compiler/proxy_node.h"
#include "cmesh/compiler/xds_resources.h"
#include "cmesh/model/parser.h"

namespace cmesh::cli {

struct ProxyInputs {
  model::ParseResult parsed;
  compiler::ProxyNode proxy;
  compiler::MeshOptions options;
};

// -f/--file (repeatable), --proxy, --proxy-labels, --outbound-policy.
std::vector<OptionSpec> ProxyOptionSpecs();
extern const char kProxyOptionsHelp[];

// Parses "k=v,k2=v2". nullopt (and *error) on an item without "=" or with an empty key.
std::optional<model::Labels> ParseLabels(const std::string& text, std::string* error);

// Loads the files and identifies the proxy. The proxy's labels come from --proxy-labels when
// given (they replace, not extend, the pod's), else from its Pod in the input (POD.NS of the node
// id), else none, with a note on stderr. Returns nullopt with the exit code in *exit_code (2 for
// usage errors) when nothing can be compiled. Configuration diagnostics are printed to `err`.
std::optional<ProxyInputs> LoadProxyInputs(const Args& args, std::ostream& err, int* exit_code);

// Compiles for the proxy; compiler warnings go to `err`.
compiler::XdsResources CompileFor(const ProxyInputs& inputs, std::ostream& err);

void PrintDiagnostics(const std::vector<model::Diagnostic>& diagnostics, std::ostream& err);

}  // namespace cmesh::cli
