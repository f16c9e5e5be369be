// What /proc says about a process: resident memory and CPU time. Used for the control plane
// under test (--server-pid) and for the load tool itself.
#pragma once

#include <sys/types.h>

#include <optional>

namespace cmesh::xds_load {

// VmRSS of /proc/PID/status in KiB; nullopt when the process is gone or the line is missing.
std::optional<long> ResidentKb(pid_t pid);
// utime + stime of /proc/PID/stat in seconds (all threads); nullopt when unreadable.
std::optional<double> CpuSeconds(pid_t pid);

}  // namespace cmesh::xds_load
