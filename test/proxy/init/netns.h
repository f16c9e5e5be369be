// Network namespaces for cmesh-init's real tests: created with a unique name, deleted at scope
// exit (also when the test fails), and processes run inside them.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "cmesh/proxy_init/process.h"

namespace cmesh::proxy_init::testing {

// Why these tests cannot run here (not root, no `ip`, no iptables tools, no netns support), or
// nothing when they can.
std::optional<std::string> NetnsUnavailableReason();

// Runs a command (PATH lookup) and fails the current test when it does not exit 0.
ProcessResult MustRun(const std::vector<std::string>& argv);

class NetNs {
 public:
  explicit NetNs(const std::string& role);  // name: cmesh-init-<role>-<pid>-<n>
  ~NetNs();
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;

  const std::string& name() const { return name_; }
  bool created() const { return created_; }
  // `ip netns exec NAME argv...`
  ProcessResult Exec(const std::vector<std::string>& argv) const;
  // iptables-save -t nat (or ip6tables-save) in the namespace, comments and counters removed.
  std::string NatTable(bool ipv6 = false) const;

 private:
  std::string name_;
  bool created_ = false;
};

// Forks a child that enters the namespace and serves TCP on 0.0.0.0:port (and [::]:port when
// ipv6) for each port: every accepted connection gets "<tag>:<port>" where port is the original
// destination port (SO_ORIGINAL_DST) when NAT changed it, else the local port. Killed at scope exit.
class TagServer {
 public:
  TagServer(const NetNs& ns, const std::vector<std::pair<std::string, int>>& tagged_ports);
  ~TagServer();
  TagServer(const TagServer&) = delete;
  TagServer& operator=(const TagServer&) = delete;
  bool ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

// Connects from inside the namespace (as uid/gid when given) and returns what the server said,
// or "error: ..." when the connection failed.
std::string ConnectFrom(const NetNs& ns, const std::string& address, int port,
                        std::optional<unsigned> uid_gid = std::nullopt);

// Runs argv inside the namespace with CAP_NET_ADMIN removed (bounding, inheritable and ambient
// sets), as root otherwise. Returns the exit code and stderr; spawn_errno set when the
// capability could not be dropped.
ProcessResult ExecWithoutNetAdmin(const NetNs& ns, const std::vector<std::string>& argv);

}  // namespace cmesh::proxy_init::testing
