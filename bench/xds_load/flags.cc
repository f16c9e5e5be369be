#include "flags.h"

#include <charconv>
#include <type_traits>

namespace cmesh::xds_load {
namespace {

std::optional<long long> ParseInt(const std::string& text, long long min, long long max) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
  return value;
}

// "k=v,k2=v2" → map; an empty string is no labels.
std::optional<std::map<std::string, std::string>> ParseLabels(const std::string& text) {
  std::map<std::string, std::string> labels;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string pair = text.substr(start, comma - start);
    std::size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) return std::nullopt;
    labels[pair.substr(0, eq)] = pair.substr(eq + 1);
    start = comma + 1;
  }
  return labels;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0 || end == text.data()) return std::nullopt;
  std::string unit(end, text.data() + text.size());
  if (unit.empty() || unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "s") return std::chrono::milliseconds(value * 1000);
  if (unit == "m") return std::chrono::milliseconds(value * 60'000);
  return std::nullopt;
}

std::string Usage() {
  return "usage: cmesh-xds-load --port N [flags]\n"
         "       cmesh-xds-load report --cmesh FILE [--peer FILE] [--cmesh-storm FILE --peer-storm FILE]\n"
         "Opens N ADS (state of the world) streams, each a distinct sidecar node\n"
         "sidecar~10.X.Y.Z~load-K.NS~NS.svc.cluster.local, subscribing as Envoy does, and measures\n"
         "the control plane: initial sync, RSS per stream, a config change, a reconnect storm.\n"
         "  --address ADDR             server address (default 127.0.0.1)\n"
         "  --port N                   ADS port (default 15010)\n"
         "  --streams N                number of streams/nodes (default 1000)\n"
         "  --streams-per-channel N    streams sharing one connection (default 100)\n"
         "  --open-batch K             open the other N-1 streams K at a time, each batch synced before\n"
         "                             the next (a diagnostic: RSS without the burst's buffers)\n"
         "  --namespace NS             the nodes' namespace (default default)\n"
         "  --labels k=v,...           node metadata LABELS, the same for all (default app=xds-load)\n"
         "  --server-pid PID           read the server's RSS and CPU time from /proc\n"
         "  --change-file PATH         file to rewrite for the change measurement\n"
         "  --change-to FILE           the content to write into --change-file\n"
         "  --change-rounds N          rewrites (odd: --change-to, even: the original; default 1)\n"
         "  --debounce-quiet DUR       the server's debounce, subtracted in the report (default 100ms)\n"
         "  --reconnect-storm          finally drop every stream at once and reconnect all\n"
         "  --timeout DUR              limit of each phase (default 120s)\n"
         "  --settle DUR               quiet time before reading the RSS (default 1s)\n"
         "  --server-name NAME         name of the server in the report (default server)\n"
         "  --help                     this text\n"
         "Prints human-readable lines, then one JSON line with every figure. Exit status: 0 every\n"
         "phase completed, 1 a phase timed out or streams failed, 2 usage.\n";
}

std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error) {
  Flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    if (name == "--help" || name == "-h") {
      flags.help = true;
      continue;
    }
    if (name == "--reconnect-storm") {
      flags.reconnect_storm = true;
      continue;
    }
    std::string value;
    if (auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      *error = "flag " + name + " needs a value";
      return std::nullopt;
    }
    auto integer = [&](long long min, long long max, auto* out) {
      auto parsed = ParseInt(value, min, max);
      if (!parsed) *error = "bad value for " + name + ": \"" + value + "\"";
      else *out = static_cast<std::remove_reference_t<decltype(*out)>>(*parsed);
      return parsed.has_value();
    };
    auto duration = [&](std::chrono::milliseconds* out) {
      auto parsed = ParseDuration(value);
      if (!parsed) *error = "bad duration for " + name + ": \"" + value + "\"";
      else *out = *parsed;
      return parsed.has_value();
    };
    bool ok = true;
    if (name == "--address") flags.address = value;
    else if (name == "--port") ok = integer(1, 65535, &flags.port);
    else if (name == "--streams") ok = integer(1, 1'000'000, &flags.streams);
    else if (name == "--streams-per-channel") ok = integer(1, 100'000, &flags.streams_per_channel);
    else if (name == "--open-batch") ok = integer(0, 1'000'000, &flags.open_batch);
    else if (name == "--namespace") flags.ns = value;
    else if (name == "--labels") {
      auto labels = ParseLabels(value);
      if (!labels) {
        *error = "bad --labels \"" + value + "\" (want k=v,k2=v2)";
        ok = false;
      } else {
        flags.labels = *labels;
      }
    } else if (name == "--server-pid") ok = integer(1, 1LL << 31, &flags.server_pid);
    else if (name == "--change-file") flags.change_file = value;
    else if (name == "--change-to") flags.change_to = value;
    else if (name == "--change-rounds") ok = integer(1, 1000, &flags.change_rounds);
    else if (name == "--debounce-quiet") ok = duration(&flags.debounce_quiet);
    else if (name == "--timeout") ok = duration(&flags.timeout);
    else if (name == "--settle") ok = duration(&flags.settle);
    else if (name == "--server-name") flags.server_name = value;
    else {
      *error = "unknown flag " + name;
      ok = false;
    }
    if (!ok) return std::nullopt;
  }
  if (flags.change_file.empty() != flags.change_to.empty()) {
    *error = "--change-file and --change-to go together";
    return std::nullopt;
  }
  if (flags.ns.empty()) {
    *error = "--namespace must not be empty";
    return std::nullopt;
  }
  return flags;
}

}  // namespace cmesh::xds_load
