#include "cmesh/leader/identity.h"

#include <unistd.h>

#include <cstdio>
#include <random>

namespace cmesh::leader {

std::string MakeLeaderIdentity(const std::string& pod_name) {
  std::string base = pod_name;
  if (base.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) base = host;
    if (base.empty()) base = "cmesh-pilot";
  }
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%08x", static_cast<unsigned>(random()));
  return base + "_" + suffix;
}

}  // namespace cmesh::leader
