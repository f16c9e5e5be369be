#include "flags.h"

#include <charconv>
#include <cstdlib>

namespace cmesh::pilot {
namespace {

// "a,b,,c" → {a, b, c}.
std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

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
  return "usage: cmesh-pilot (--config-dir DIR | --kubeconfig PATH | --in-cluster) [flags]\n"
         "  --config-dir DIR        YAML/JSON config, watched for changes\n"
         "  --kubeconfig PATH       watch the Kubernetes API with this kubeconfig's current context\n"
         "  --in-cluster            watch the Kubernetes API as the pod's service account (the default\n"
         "                          when neither of the above is given and KUBERNETES_SERVICE_HOST is set)\n"
         "  --leader-election-namespace NS  namespace of the leader Lease (default $POD_NAMESPACE,\n"
         "                          else istio-system)\n"
         "  --leader-lease NAME     name of the leader Lease (default cmesh-pilot-leader)\n"
         "  --identity NAME         this replica in the Lease (default $POD_NAME, else the host name)\n"
         "  --write-status BOOL     whether the leader writes VirtualService/DestinationRule status\n"
         "                          (default true)\n"
         "  --webhook-port N        HTTPS port of the admission webhooks /inject and /validate\n"
         "                          (default 15017 with a Kubernetes source, else off; 0 = off)\n"
         "  --webhook-cert-dir DIR  a mounted TLS Secret (tls.crt, tls.key, ca.crt); without one a\n"
         "                          self-signed CA is made (default /var/run/secrets/cmesh/webhook)\n"
         "  --webhook-dns-names N,...  the serving certificate's DNS names (default\n"
         "                          cmesh-pilot.$POD_NAMESPACE.svc and its .cluster.local form)\n"
         "  --webhook-ips IP,...    IP addresses in the serving certificate too\n"
         "  --webhook-refresh-interval DUR  how often the webhook certificate is checked for renewal\n"
         "                          and a mounted one re-read (default 60s)\n"
         "  --injection-config FILE the injector's template, values and policy (YAML; default built-in)\n"
         "  --mutating-webhook-name NAME, --validating-webhook-name NAME  the webhook configurations\n"
         "                          whose caBundle the leader keeps current (default\n"
         "                          cmesh-sidecar-injector, cmesh-validator; \"\" skips one)\n"
         "  --outbound-traffic-policy ALLOW_ANY|REGISTRY_ONLY  what sidecars do with destinations\n"
         "                          outside the registry (meshConfig.outboundTrafficPolicy; default\n"
         "                          ALLOW_ANY)\n"
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
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr && *ns != '\0') flags.leader_namespace = ns;
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') flags.identity = pod;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    if (name == "--help" || name == "-h") {
      flags.help = true;
      continue;
    }
    if (name == "--in-cluster") {  // a switch, without a value
      flags.in_cluster = true;
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
    else if (name == "--kubeconfig") flags.kubeconfig = value;
    else if (name == "--leader-election-namespace") flags.leader_namespace = value;
    else if (name == "--leader-lease") flags.leader_lease = value;
    else if (name == "--identity") flags.identity = value;
    else if (name == "--write-status") {
      if (value != "true" && value != "false") {
        *error = "bad --write-status \"" + value + "\" (true or false)";
        ok = false;
      }
      flags.write_status = value == "true";
    }
    else if (name == "--webhook-port") ok = port(&flags.webhook_port);
    else if (name == "--webhook-cert-dir") flags.webhook_cert_dir = value;
    else if (name == "--webhook-dns-names") flags.webhook_dns_names = SplitList(value);
    else if (name == "--webhook-ips") flags.webhook_ips = SplitList(value);
    else if (name == "--injection-config") flags.injection_config = value;
    else if (name == "--webhook-refresh-interval") ok = duration(&flags.webhook_refresh_interval);
    else if (name == "--mutating-webhook-name") flags.mutating_webhook_name = value;
    else if (name == "--validating-webhook-name") flags.validating_webhook_name = value;
    else if (name == "--outbound-traffic-policy") {
      if (value != "ALLOW_ANY" && value != "REGISTRY_ONLY") {
        *error = "bad --outbound-traffic-policy \"" + value + "\" (ALLOW_ANY or REGISTRY_ONLY)";
        ok = false;
      }
      flags.registry_only = value == "REGISTRY_ONLY";
    }
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
  if (!flags.help && flags.config_dir.empty() && flags.kubeconfig.empty() && !flags.in_cluster) {
    if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host != nullptr && *host != '\0') {
      flags.in_cluster = true;
    } else {
      *error = "a config source is required: --config-dir, --kubeconfig or --in-cluster";
      return std::nullopt;
    }
  }
  if (!flags.kubeconfig.empty() && flags.in_cluster) {
    *error = "--kubeconfig and --in-cluster exclude each other";
    return std::nullopt;
  }
  return flags;
}

}  // namespace cmesh::pilot
