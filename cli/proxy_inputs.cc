#include "proxy_inputs.h"

#include <algorithm>
#include <map>
#include <memory>
#include <ostream>
#include <utility>

#include "cmesh/compiler/compiler.h"
#include "cmesh/file_source/file_loader.h"
#include "commands.h"

namespace cmesh::cli {

const char kProxyOptionsHelp[] =
    "  -f, --file PATH          config file, directory (recursive) or - for stdin; repeatable\n"
    "      --proxy NODE_ID      sidecar~IP~POD.NS~NS.svc.cluster.local\n"
    "      --proxy-labels K=V,...  the workload's labels (default: its Pod's labels when the Pod\n"
    "                           is in the input; given labels replace the Pod's)\n"
    "      --outbound-policy ALLOW_ANY|REGISTRY_ONLY   mesh outboundTrafficPolicy (default ALLOW_ANY)\n";

std::vector<OptionSpec> ProxyOptionSpecs() {
  return {{{"-f", "--file"}, true, true},
          {{"--proxy"}, true, false},
          {{"--proxy-labels"}, true, false},
          {{"--outbound-policy"}, true, false}};
}

std::optional<model::Labels> ParseLabels(const std::string& text, std::string* error) {
  model::Labels labels;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "invalid label \"" + item + "\": expected key=value";
      return std::nullopt;
    }
    labels[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return labels;
}

void PrintDiagnostics(const std::vector<model::Diagnostic>& diagnostics, std::ostream& err) {
  // Files in the order they were loaded, and each file's problems in line order.
  std::map<std::string, size_t> file_rank;
  for (const auto& d : diagnostics) file_rank.emplace(d.object.file, file_rank.size());
  std::vector<const model::Diagnostic*> sorted;
  for (const auto& d : diagnostics) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [&](const model::Diagnostic* a, const model::Diagnostic* b) {
    return std::pair(file_rank[a->object.file], a->object.line) < std::pair(file_rank[b->object.file], b->object.line);
  });
  for (const auto* d : sorted) err << d->ToString() << "\n";
}

std::optional<ProxyInputs> LoadProxyInputs(const Args& args, std::ostream& err, int* exit_code) {
  *exit_code = kExitUsage;
  if (args.All("file").empty()) {
    err << "error: at least one -f PATH is required\n";
    return std::nullopt;
  }
  if (!args.Has("proxy")) {
    err << "error: --proxy NODE_ID is required\n";
    return std::nullopt;
  }
  ProxyInputs in;
  std::string error;
  auto node = compiler::ParseNodeId(args.Get("proxy"), &error);
  if (!node) {
    err << "error: invalid --proxy \"" << args.Get("proxy") << "\": " << error << "\n";
    return std::nullopt;
  }
  in.proxy = *node;
  std::optional<model::Labels> labels;
  if (args.Has("proxy-labels")) {
    labels = ParseLabels(args.Get("proxy-labels"), &error);
    if (!labels) {
      err << "error: --proxy-labels: " << error << "\n";
      return std::nullopt;
    }
  }
  const std::string policy = args.Get("outbound-policy", "ALLOW_ANY");
  if (policy == "ALLOW_ANY") {
    in.options.outbound_policy = compiler::MeshOptions::OutboundPolicy::kAllowAny;
  } else if (policy == "REGISTRY_ONLY") {
    in.options.outbound_policy = compiler::MeshOptions::OutboundPolicy::kRegistryOnly;
  } else {
    err << "error: --outbound-policy must be ALLOW_ANY or REGISTRY_ONLY\n";
    return std::nullopt;
  }

  in.parsed = file_source::LoadPaths(args.All("file"));
  PrintDiagnostics(in.parsed.diagnostics, err);

  if (labels) {
    in.proxy.labels = *labels;
  } else {
    bool found = false;
    for (const auto& pod : in.parsed.config.pods) {
      if (pod.meta.name == in.proxy.pod_name && pod.meta.ns == in.proxy.ns) {
        in.proxy.labels = pod.meta.labels;
        found = true;
        break;
      }
    }
    if (!found) {
      err << "note: pod " << in.proxy.ns << "/" << in.proxy.pod_name
          << " is not in the input; the proxy has no labels (use --proxy-labels)\n";
    }
  }
  *exit_code = in.parsed.ok() ? kExitOk : kExitFailure;
  return in;
}

compiler::XdsResources CompileFor(const ProxyInputs& inputs, std::ostream& err) {
  auto config = std::make_shared<const model::ConfigSet>(inputs.parsed.config);
  auto index = compiler::BuildIndex(config, inputs.options);
  compiler::XdsResources resources = compiler::Compile(*index, inputs.proxy, inputs.options);
  for (const auto& w : resources.warnings) err << "warning: " << w << "\n";
  return resources;
}

}  // namespace cmesh::cli
