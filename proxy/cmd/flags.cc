#include "flags.h"

#include <charconv>

#include "cmesh/compiler/proxy_node.h"
#include "cmesh/model/duration.h"

namespace cmesh::proxy {
namespace {

bool ParsePort(const std::string& text, int* out) {
  int value = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0 || value > 65535) return false;
  *out = value;
  return true;
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find(separator, start);
    std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(std::move(item));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string Usage() {
  return "usage: cmesh-proxy --xds-address HOST:PORT --node-id sidecar~IP~POD.NS~NS.svc.cluster.local [flags]\n"
         "  --xds-address HOST:PORT   cmesh-pilot's ADS address (required)\n"
         "  --node-id ID              the sidecar's Istio node id (required)\n"
         "  --namespace NS            node metadata NAMESPACE (default: from the node id)\n"
         "  --labels K=V,...          node metadata LABELS (the workload's labels)\n"
         "  --instance-ips IP,...     node metadata INSTANCE_IPS (default: the node id's IP)\n"
         "  --concurrency N           worker threads (default 2)\n"
         "  --outbound-address ADDR   address of the outbound listener (default 0.0.0.0)\n"
         "  --outbound-port N         the outbound listener; connections redirected by iptables are\n"
         "                            routed by their original destination, others as an explicit\n"
         "                            HTTP proxy by their request's authority (default 15001)\n"
         "  --inbound-address ADDR    address of the inbound listener (default 0.0.0.0)\n"
         "  --inbound-port N          the inbound listener: connections iptables redirected to the\n"
         "                            pod's ports, served by the inbound listener's filter chains\n"
         "                            (default 15006; 0 picks a free port)\n"
         "  --admin-port N            admin on 127.0.0.1 (default 15000; 0 picks one)\n"
         "  --health-port N           /healthz/ready (default 15021)\n"
         "  --stats-port N            /stats/prometheus (default 15090)\n"
         "  --status-address ADDR     address of the health and stats ports (default 0.0.0.0)\n"
         "  --access-log PATH         one line per request to PATH, - for stdout (default: none)\n"
         "  --drain-duration DUR      on SIGTERM, time for requests in flight (default 5s)\n"
         "  --log-level LEVEL         debug|info|warn|error (default info)\n"
         "  --log-format FORMAT       text|json (default text)\n"
         "  --help                    this text\n";
}

std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error) {
  Flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& name = args[i];
    if (name == "--help" || name == "-h") {
      flags.help = true;
      return flags;
    }
    if (i + 1 >= args.size()) {
      *error = name + " needs a value";
      return std::nullopt;
    }
    const std::string& value = args[++i];
    auto port = [&](int* out) {
      if (ParsePort(value, out)) return true;
      *error = name + ": not a port number: " + value;
      return false;
    };
    if (name == "--xds-address") {
      flags.xds_address = value;
    } else if (name == "--node-id") {
      flags.node_id = value;
    } else if (name == "--namespace") {
      flags.namespace_name = value;
    } else if (name == "--labels") {
      for (const std::string& pair : Split(value, ',')) {
        const std::size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
          *error = "--labels: not K=V: " + pair;
          return std::nullopt;
        }
        flags.labels[pair.substr(0, eq)] = pair.substr(eq + 1);
      }
    } else if (name == "--instance-ips") {
      flags.instance_ips = Split(value, ',');
    } else if (name == "--concurrency") {
      int n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 64) {
        *error = "--concurrency: 1 to 64 workers";
        return std::nullopt;
      }
      flags.concurrency = n;
    } else if (name == "--outbound-address") {
      flags.outbound_address = value;
    } else if (name == "--outbound-port") {
      if (!port(&flags.outbound_port)) return std::nullopt;
    } else if (name == "--inbound-address") {
      flags.inbound_address = value;
    } else if (name == "--inbound-port") {
      if (!port(&flags.inbound_port)) return std::nullopt;
    } else if (name == "--admin-port") {
      if (!port(&flags.admin_port)) return std::nullopt;
    } else if (name == "--health-port") {
      if (!port(&flags.health_port)) return std::nullopt;
    } else if (name == "--stats-port") {
      if (!port(&flags.stats_port)) return std::nullopt;
    } else if (name == "--status-address") {
      flags.status_address = value;
    } else if (name == "--access-log") {
      flags.access_log = value;
    } else if (name == "--drain-duration") {
      auto d = model::ParseDuration(value);
      if (!d || d->nanos < 0) {
        *error = "--drain-duration: not a duration: " + value;
        return std::nullopt;
      }
      flags.drain_duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(d->nanos));
    } else if (name == "--log-level") {
      if (value != "debug" && value != "info" && value != "warn" && value != "error") {
        *error = "--log-level: debug, info, warn or error";
        return std::nullopt;
      }
      flags.log_level = value;
    } else if (name == "--log-format") {
      if (value != "text" && value != "json") {
        *error = "--log-format: text or json";
        return std::nullopt;
      }
      flags.log_format = value;
    } else {
      *error = "unknown flag " + name;
      return std::nullopt;
    }
  }
  if (flags.xds_address.empty() || flags.node_id.empty()) {
    *error = "--xds-address and --node-id are required";
    return std::nullopt;
  }
  std::string why;
  auto node = compiler::ParseNodeId(flags.node_id, &why);
  if (!node) {
    *error = "--node-id: " + why;
    return std::nullopt;
  }
  if (flags.namespace_name.empty()) flags.namespace_name = node->ns;
  if (flags.instance_ips.empty()) flags.instance_ips = {node->ip};
  return flags;
}

}  // namespace cmesh::proxy
