// libFuzzer target over the whole front half of the control plane: arbitrary bytes are parsed as
// Kubernetes-style documents, validated, and whatever survives is compiled for two proxies (one in
// the "default" namespace, one elsewhere). Any crash, sanitizer report or hang is a bug: malformed
// input must only ever produce diagnostics.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "cmesh/compiler/compiler.h"
#include "cmesh/compiler/proxy_node.h"
#include "cmesh/model/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cmesh::model::ParseResult parsed = cmesh::model::ParseDocuments(text, "fuzz.yaml");
  for (const auto& d : parsed.diagnostics) {
    (void)d.ToString();
  }
  auto config = std::make_shared<const cmesh::model::ConfigSet>(std::move(parsed.config));
  cmesh::compiler::MeshOptions options;
  auto index = cmesh::compiler::BuildIndex(config, options);
  for (std::string_view id : {"sidecar~10.1.0.10~productpage-v1-x.default~default.svc.cluster.local",
                              "sidecar~10.2.0.5~client-0.other~other.svc.cluster.local"}) {
    std::string error;
    auto proxy = cmesh::compiler::ParseNodeId(id, &error);
    if (!proxy) __builtin_trap();  // the fixed node ids are valid; failing here is a bug
    proxy->labels = {{"app", "productpage"}, {"version", "v1"}};
    cmesh::compiler::XdsResources out = cmesh::compiler::Compile(*index, *proxy, options);
    (void)out.RoutesVersion();
  }
  return 0;
}
