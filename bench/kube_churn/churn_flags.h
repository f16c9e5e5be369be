// Command line of cmesh-kube-churn.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::kube_churn {

struct Flags {
  std::string kubeconfig;                 // required
  std::string ns = "kube-churn";          // created when missing
  std::string crds_dir;                   // applied when the DestinationRule CRD is missing
  int services = 1000;
  int pods_per_service = 5;
  int setup_threads = 8;
  double rate = 100;                      // API writes per second during the churn
  std::chrono::milliseconds duration{60'000};
  double replace_fraction = 0.5;          // share of churn events that replace a pod (else flip a label)
  int writers = 8;                        // churn threads
  bool endpoint_slices = true;            // act as the EndpointSlice controller (no controller-manager)
  std::string address = "127.0.0.1";
  int xds_port = 0;                       // the control plane's plaintext ADS port (required); -1: auto
  pid_t server_pid = 0;                   // a running control plane (RSS/CPU); 0 with server_command
  std::vector<std::string> server_command;  // after `--`: started after setup, stopped at the end
  std::string server_log;                 // the started server's stdout+stderr (default: discarded)
  std::string server_name = "server";     // echoed in the report
  std::string istio_version;              // node metadata ISTIO_VERSION (istiod wants one)
  std::chrono::milliseconds sync_timeout{300'000};
  std::chrono::milliseconds drain{30'000};  // after the churn: how long to wait for late effects
  std::chrono::milliseconds settle{2'000};  // quiet time before the idle RSS
  bool cleanup = false;                   // delete the namespace's objects at the end
  unsigned seed = 1;
  bool help = false;
};

std::string Usage();
// nullopt with `*error` set on a bad command line.
std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error);

}  // namespace cmesh::kube_churn
