// The host side of the mesh fixture (mesh_host.cc): commands run with a bound on their time, the
// lock that keeps concurrent runs from picking the same subnet or sweeping each other, and what
// runs leave behind: namespaces, links and directories named with their creator's pid.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "mesh_fixture.h"

namespace cmesh::mesh_test {

// Names of what the fixture creates, each followed by the creating process's pid.
inline constexpr char kNetnsPrefix[] = "cmesh-mesh-";
inline constexpr char kBridgePrefix[] = "cmbr";
inline constexpr char kVethPrefix[] = "cmv";

std::string ReadFileText(const std::string& path);
// The last `lines` lines of `text`.
std::string Tail(const std::string& text, int lines);
bool InPath(const std::string& name);
void WriteAll(int fd, const std::string& text);
// argv for exec: pointers into `words`, null-terminated.
std::vector<char*> Argv(std::vector<std::string>& words);
// Runs argv (PATH lookup), its output captured; killed after `timeout`.
CommandResult Run(std::vector<std::string> argv, std::chrono::milliseconds timeout = std::chrono::seconds(30));
// "argv → exit N: output", for failure messages.
std::string Describe(const std::vector<std::string>& argv, const CommandResult& result);

// An exclusive lock on a file under /run/lock: held while a subnet is picked and its bridge
// created, and while leftovers are swept.
class HostLock {
 public:
  HostLock();
  ~HostLock();  // releases the lock
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;

 private:
  int fd_ = -1;
};

void KillNetnsProcesses(const std::string& netns);
// What dead runs left: namespaces (and their processes), bridges and veths, /etc/netns dirs.
void SweepLeftovers();

}  // namespace cmesh::mesh_test
