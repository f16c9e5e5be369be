// cmeshctl validate -f PATH...: parses and validates with Istio's semantics.
#include <ostream>

#include "args.h"
#include "cmesh/file_source/file_loader.h"
#include "commands.h"
#include "proxy_inputs.h"

namespace cmesh::cli {
namespace {

const char kHelp[] =
    "Usage: cmeshctl validate -f PATH [-f PATH]...\n"
    "\n"
    "Parses and validates VirtualServices, DestinationRules and the Kubernetes objects they refer\n"
    "to, with Istio's semantics. Every problem is reported (file, line, kind, namespace/name,\n"
    "field, reason) on stderr.\n"
    "\n"
    "Options:\n"
    "  -f, --file PATH   config file, directory (recursive) or - for stdin; repeatable\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 all valid (warnings allowed), 1 errors found, 2 usage error.\n";

}  // namespace

int RunValidate(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  int exit_code = kExitOk;
  auto args = ParseCommandLine(argv, {{{"-f", "--file"}, true, true}}, kHelp, out, err, &exit_code);
  if (!args) return exit_code;
  if (args->All("file").empty()) {
    err << "error: at least one -f PATH is required\n\n" << kHelp;
    return kExitUsage;
  }
  model::ParseResult result = file_source::LoadPaths(args->All("file"));
  PrintDiagnostics(result.diagnostics, err);
  size_t errors = 0, warnings = 0;
  for (const auto& d : result.diagnostics) (d.severity == model::Severity::kError ? errors : warnings)++;
  const auto& c = result.config;
  const size_t objects = c.virtual_services.size() + c.destination_rules.size() + c.services.size() +
                         c.pods.size() + c.endpoint_slices.size() + c.endpoints.size() + c.namespaces.size();
  if (errors > 0) {
    err << "validation failed: " << errors << " error(s), " << warnings << " warning(s)\n";
    return kExitFailure;
  }
  out << "ok: " << objects << " object(s) valid";
  if (warnings > 0) out << ", " << warnings << " warning(s)";
  out << "\n";
  return kExitOk;
}

}  // namespace cmesh::cli
