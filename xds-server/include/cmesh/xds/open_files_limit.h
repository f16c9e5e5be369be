// Every ADS stream holds a socket, so thousands of proxies need more descriptors than the usual
// soft limit of 1024. The soft limit may be raised up to the hard limit without privileges.
#pragma once

#include <cstdint>
#include <string>

namespace cmesh::xds {

struct OpenFilesLimit {
  bool ok = false;             // getrlimit/setrlimit succeeded (or nothing needed raising)
  std::uint64_t before = 0;    // soft limit found
  std::uint64_t after = 0;     // soft limit now in force
  std::uint64_t hard = 0;      // hard limit (UINT64_MAX for unlimited)
  std::string error;           // why it failed, when !ok
};

// Raises RLIMIT_NOFILE's soft limit to the hard limit (capped by the kernel's nr_open when the
// hard limit is unlimited). Never lowers it.
OpenFilesLimit RaiseOpenFilesLimit();

// "open files limit raised from 1024 to 1048576" and the like, for the start-up log.
std::string Describe(const OpenFilesLimit& limit);

}  // namespace cmesh::xds
