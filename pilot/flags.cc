#include "flags.h"

#include <charconv>

namespace cmesh::pilot {
namespace {

std::optional<int> ParsePort(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 65535) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  std::string unit(end, text.data() + text.size());
  if (unit.empty() || unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "s") return std::chrono::milliseconds(value * 1000);
  if (unit == "m") return std::chrono::milliseconds(value * 60'000);
  return std::nullopt;
}

std::string Usage() {
  return "usage: cmesh-pilot --config-dir DIR [flags]\n"
         "  --config-dir DIR        YAML/JSON config, watched for changes (required)\n"
         "  --xds-port N            ADS gRPC port (default 15010; 0 picks a free one)\n"
         "  --monitoring-port N     /metrics port (default 15014)\n"
         "  --debug-port N          /ready and /debug/* port (default 8080)\n"
         "  --listen-address ADDR   address of all listeners, IPv4 or IPv6; :: is every interface of\n"
         "                          both families (default 0.0.0.0)\n"
         "  --debounce-quiet DUR    quiet period before a push (default 100ms)\n"
         "  --debounce-max DUR      longest delay of a push (default 1s)\n"
         "  --memory-release-interval DUR  how often freed heap memory is returned to the OS\n"
         "                          (malloc_trim; 0 disables; default 500ms)\n"
         "  --log-level LEVEL       debug|info|warn|error (default info)\n"
         "  --log-format FORMAT     text|json (default text)\n"
         "  --help                  this text\n";
}

std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error) {
  Flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    if (name == "--help" || name == "-h") {
      flags.help = true;
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
    auto port = [&](int* out) {
      auto parsed = ParsePort(value);
      if (!parsed) *error = "bad port for " + name + ": \"" + value + "\"";
      else *out = *parsed;
      return parsed.has_value();
    };
    auto duration = [&](std::chrono::milliseconds* out) {
      auto parsed = ParseDuration(value);
      if (!parsed) *error = "bad duration for " + name + ": \"" + value + "\"";
      else *out = *parsed;
      return parsed.has_value();
    };
    bool ok = true;
    if (name == "--config-dir") flags.config_dir = value;
    else if (name == "--xds-port") ok = port(&flags.xds_port);
    else if (name == "--monitoring-port") ok = port(&flags.monitoring_port);
    else if (name == "--debug-port") ok = port(&flags.debug_port);
    else if (name == "--listen-address") flags.listen_address = value;
    else if (name == "--debounce-quiet") ok = duration(&flags.debounce_quiet);
    else if (name == "--debounce-max") ok = duration(&flags.debounce_max);
    else if (name == "--memory-release-interval") ok = duration(&flags.memory_release_interval);
    else if (name == "--log-level") {
      flags.log_level = value;
      if (value != "debug" && value != "info" && value != "warn" && value != "error") {
        *error = "bad --log-level \"" + value + "\"";
        ok = false;
      }
    } else if (name == "--log-format") {
      flags.log_format = value;
      if (value != "text" && value != "json") {
        *error = "bad --log-format \"" + value + "\"";
        ok = false;
      }
    } else {
      *error = "unknown flag " + name;
      ok = false;
    }
    if (!ok) return std::nullopt;
  }
  if (!flags.help && flags.config_dir.empty()) {
    *error = "--config-dir is required";
    return std::nullopt;
  }
  return flags;
}

}  // namespace cmesh::pilot
