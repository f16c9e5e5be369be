// Command-line flags of cmesh-proxy, with Istio's sidecar ports as defaults.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::proxy {

struct Flags {
  std::string xds_address;  // HOST:PORT of cmesh-pilot (required)
  std::string node_id;      // sidecar~IP~POD.NS~NS.svc.cluster.local (required)
  std::string namespace_name;  // default: from the node id
  std::map<std::string, std::string> labels;
  std::vector<std::string> instance_ips;  // default: the node id's IP
  int concurrency = 2;
  std::string outbound_address = "0.0.0.0";
  int outbound_port = 15001;
  std::string inbound_address = "0.0.0.0";
  int inbound_port = 15006;
  int admin_port = 15000;   // 127.0.0.1 only
  int health_port = 15021;  // /healthz/ready
  int stats_port = 15090;   // /stats/prometheus
  std::string status_address = "0.0.0.0";  // of the health and stats ports
  std::string access_log;   // a file path, or "-" for stdout; empty: no access log
  std::chrono::milliseconds drain_duration{5000};
  std::string log_level = "info";
  std::string log_format = "text";
  bool help = false;
};

std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error);
std::string Usage();

}  // namespace cmesh::proxy
