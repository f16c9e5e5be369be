// cmesh-init's command line. Flag names follow the traffic.sidecar.istio.io/* annotations.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "cmesh/proxy_init/capture_config.h"

namespace cmesh::proxy_init {

struct Options {
  CaptureConfig capture;
  bool dry_run = false;  // print the iptables-restore input, change nothing
  bool cleanup = false;  // remove our chains and the jumps into them
  bool help = false;
};

// A usage error: the message names the flag and the value. cmesh-init exits 2 with it.
struct FlagError {
  std::string message;
};

// args excludes argv[0]. Accepts "--flag value" and "--flag=value".
std::variant<Options, FlagError> ParseFlags(const std::vector<std::string>& args);

std::string Usage();

}  // namespace cmesh::proxy_init
