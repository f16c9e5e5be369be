// Command-line flags of cmesh-pilot, with Istio's default ports.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::pilot {

struct Flags {
  std::string config_dir;
  // The Kubernetes API: a kubeconfig file, or the pod's service account (in_cluster). In-cluster
  // is also chosen when neither --config-dir nor --kubeconfig is given and
  // KUBERNETES_SERVICE_HOST is set. Both sources can be combined with --config-dir.
  std::string kubeconfig;
  bool in_cluster = false;
  // Leader election (the singleton work: status writes): the Lease's namespace and name, and this
  // replica's identity (default: $POD_NAME, else the host name).
  std::string leader_namespace = "istio-system";
  std::string leader_lease = "cmesh-pilot-leader";
  std::string identity;
  bool write_status = true;
  // The admission webhooks over HTTPS: -1 = 15017 when a Kubernetes source is configured, else
  // off; 0 = off.
  int webhook_port = -1;
  std::string webhook_cert_dir = "/var/run/secrets/cmesh/webhook";
  // The serving certificate's names: the Service's DNS name first ("" = cmesh-pilot.$NS.svc), then
  // extra names and IP addresses.
  std::vector<std::string> webhook_dns_names;
  std::vector<std::string> webhook_ips;
  std::string injection_config;  // the injector's YAML (template, values, policy); "" = built-in
  std::string mutating_webhook_name = "cmesh-sidecar-injector";
  std::string validating_webhook_name = "cmesh-validator";
  // How often the certificate is checked for renewal (and a mounted one re-read).
  std::chrono::milliseconds webhook_refresh_interval{60'000};
  // meshConfig.outboundTrafficPolicy.mode: ALLOW_ANY passes unknown destinations through,
  // REGISTRY_ONLY sends them to the BlackHoleCluster.
  bool registry_only = false;
  int xds_port = 15010;
  int monitoring_port = 15014;
  int debug_port = 8080;
  std::string listen_address = "0.0.0.0";
  std::chrono::milliseconds debounce_quiet{100};
  std::chrono::milliseconds debounce_max{1000};
  // How often memory freed by streams and pushes is handed back to the OS (0: never).
  std::chrono::milliseconds memory_release_interval{500};
  std::string log_level = "info";  // debug, info, warn, error
  std::string log_format = "text";  // text, json
  bool help = false;
};

// nullopt (and *error) on an unknown flag, a missing value or a bad value.
std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error);
std::string Usage();
// "100ms", "1s", "2m" or a bare number of milliseconds.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text);

}  // namespace cmesh::pilot
