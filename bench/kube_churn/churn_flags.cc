#include "churn_flags.h"

#include <charconv>
#include <cstdlib>

#include "flags.h"  // bench/xds_load: ParseDuration, shared so both tools read durations alike

namespace cmesh::kube_churn {

std::string Usage() {
  return R"(cmesh-kube-churn: churn Services/Pods on a real kube-apiserver, measure write -> EDS push.

  cmesh-kube-churn --kubeconfig K --xds-port P [flags] [-- SERVER COMMAND...]
  cmesh-kube-churn report --cmesh FILE [--peer FILE --peer-name NAME]

Setup (idempotent objects in --namespace): Services svc-N (port http 9080, selector app=svc-N),
DestinationRules with subsets v1/v2 (label version), --pods-per-service Running pods per service
(alternating v1/v2) and, unless --no-endpoint-slices, one EndpointSlice per service maintained as
the EndpointSlice controller would. Then the server command (if given) starts, one ADS sidecar
stream syncs, and the churn runs: label flips v1<->v2 and pod replacements (delete + create with a
new IP + Running + EndpointSlice update) at --rate API writes per second. Human-readable lines,
then one JSON line with every figure. Exit 0 when every write's effect arrived, 1 when some did
not, 2 on usage or setup errors.

  --kubeconfig PATH        admin kubeconfig (required)
  --namespace NS           default kube-churn
  --crds DIR               apply DIR/*.yaml when the DestinationRule CRD is missing
  --services N             default 1000
  --pods-per-service N     default 5
  --setup-threads N        default 8
  --rate R                 API writes per second during the churn, default 100
  --duration D             churn length, default 60s
  --replace-fraction F     share of events replacing a pod (others flip a label), default 0.5
  --writers N              churn threads, default 8
  --no-endpoint-slices     let the control plane derive endpoints from pods
  --address A              the control plane's address, default 127.0.0.1
  --xds-port P|auto        its plaintext ADS port (required); auto: a free port, given to the
                           server command where it says {XDS_PORT} ({FREE_PORT}: another free port)
  --server-pid PID         a running control plane (for RSS/CPU)
  --server-log FILE        where a started server's output goes
  --server-name NAME       echoed in the report, default server
  --istio-version V        node metadata ISTIO_VERSION
  --sync-timeout D         default 300s
  --drain D                wait for late effects after the churn, default 30s
  --settle D               quiet time before the idle RSS, default 2s
  --cleanup                delete the namespace at the end
  --seed N                 default 1
)";
}

namespace {

template <typename T>
bool ParseNumber(const std::string& text, T* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool ParseDouble(const std::string& text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

}  // namespace

std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error) {
  Flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& name = args[i];
    if (name == "--") {
      flags.server_command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (name == "--help" || name == "-h") { flags.help = true; continue; }
    if (name == "--no-endpoint-slices") { flags.endpoint_slices = false; continue; }
    if (name == "--cleanup") { flags.cleanup = true; continue; }
    if (i + 1 >= args.size()) {
      *error = name + " needs a value";
      return std::nullopt;
    }
    const std::string& value = args[++i];
    bool ok = true;
    auto duration = [&](std::chrono::milliseconds* out) {
      auto parsed = xds_load::ParseDuration(value);
      if (parsed) *out = *parsed;
      return parsed.has_value();
    };
    if (name == "--kubeconfig") flags.kubeconfig = value;
    else if (name == "--namespace") flags.ns = value;
    else if (name == "--crds") flags.crds_dir = value;
    else if (name == "--services") ok = ParseNumber(value, &flags.services) && flags.services > 0;
    else if (name == "--pods-per-service") ok = ParseNumber(value, &flags.pods_per_service) && flags.pods_per_service > 0;
    else if (name == "--setup-threads") ok = ParseNumber(value, &flags.setup_threads) && flags.setup_threads > 0;
    else if (name == "--rate") ok = ParseDouble(value, &flags.rate) && flags.rate > 0;
    else if (name == "--duration") ok = duration(&flags.duration);
    else if (name == "--replace-fraction")
      ok = ParseDouble(value, &flags.replace_fraction) && flags.replace_fraction >= 0 && flags.replace_fraction <= 1;
    else if (name == "--writers") ok = ParseNumber(value, &flags.writers) && flags.writers > 0;
    else if (name == "--address") flags.address = value;
    else if (name == "--xds-port" && value == "auto") flags.xds_port = -1;
    else if (name == "--xds-port") ok = ParseNumber(value, &flags.xds_port) && flags.xds_port > 0 && flags.xds_port < 65536;
    else if (name == "--server-pid") ok = ParseNumber(value, &flags.server_pid) && flags.server_pid > 0;
    else if (name == "--server-log") flags.server_log = value;
    else if (name == "--server-name") flags.server_name = value;
    else if (name == "--istio-version") flags.istio_version = value;
    else if (name == "--sync-timeout") ok = duration(&flags.sync_timeout);
    else if (name == "--drain") ok = duration(&flags.drain);
    else if (name == "--settle") ok = duration(&flags.settle);
    else if (name == "--seed") ok = ParseNumber(value, &flags.seed);
    else {
      *error = "unknown flag " + name;
      return std::nullopt;
    }
    if (!ok) {
      *error = "bad value for " + name + ": " + value;
      return std::nullopt;
    }
  }
  if (flags.help) return flags;
  if (flags.kubeconfig.empty()) *error = "--kubeconfig is required";
  else if (flags.xds_port == 0) *error = "--xds-port is required";
  else if (flags.xds_port < 0 && flags.server_command.empty()) *error = "--xds-port auto needs a server command";
  if (!error->empty()) return std::nullopt;
  return flags;
}

}  // namespace cmesh::kube_churn
