#include "cmesh/proxy_init/iptables.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cmesh/proxy_init/nat_rules.h"
#include "cmesh/proxy_init/nat_state.h"

namespace cmesh::proxy_init {
namespace {

struct Tools {
  std::string save, restore, single;
};

Tools ToolsFor(IpFamily family) {
  if (family == IpFamily::kV4) return {"iptables-save", "iptables-restore", "iptables"};
  return {"ip6tables-save", "ip6tables-restore", "ip6tables"};
}

bool NotFound(const ProcessResult& result) { return result.spawn_errno == ENOENT; }

std::string InstallHint() {
  return "install the iptables package (Debian/Ubuntu: apt-get install iptables)";
}

// Splits one rule line into words; double quotes group words (iptables-save quotes comments).
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) words.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) words.push_back(word);
  return words;
}

// How the rules are read and written: one atomic iptables-restore, or, without it, one iptables
// command per line.
class Session {
 public:
  Session(IpFamily family, const Runner& run, std::ostream& notes)
      : family_(family), tools_(ToolsFor(family)), run_(run), notes_(notes) {}

  // Reads our current state; false with error_ set when neither tool can.
  bool ReadState() {
    ProcessResult saved = run_({tools_.save, "-t", "nat"}, "");
    if (NotFound(saved)) {
      saved = run_({tools_.single, "-t", "nat", "-S"}, "");
      if (NotFound(saved)) {
        error_ = "neither " + tools_.save + " nor " + tools_.single + " was found in PATH: " +
                 InstallHint();
        return false;
      }
      per_rule_ = true;
      notes_ << "cmesh-init: " << tools_.save << " not found; reading and writing rules with "
             << tools_.single << ", one command per rule (not atomic)\n";
      if (saved.exit_code != 0) {
        error_ = DescribeFailure(tools_.single, saved);
        return false;
      }
    } else if (saved.spawn_errno != 0 || saved.exit_code != 0) {
      error_ = DescribeFailure(tools_.save, saved);
      return false;
    }
    state_ = ParseNatState(saved.out);
    return true;
  }

  bool Write(const std::string& restore_input) {
    if (!per_rule_) {
      ProcessResult restored = run_({tools_.restore, "--noflush"}, restore_input);
      if (!NotFound(restored)) {
        if (restored.spawn_errno == 0 && restored.exit_code == 0) return true;
        error_ = DescribeFailure(tools_.restore, restored) +
                 " (nothing was changed: the transaction is atomic; `cmesh-init --dry-run` "
                 "prints its input)";
        return false;
      }
      per_rule_ = true;
      notes_ << "cmesh-init: " << tools_.restore << " not found; falling back to "
             << tools_.single << ", one command per rule (not atomic)\n";
    }
    return WritePerRule(restore_input);
  }

  const NatState& state() const { return state_; }
  const std::string& error() const { return error_; }

 private:
  bool WritePerRule(const std::string& restore_input) {
    std::istringstream lines(restore_input);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#' || line[0] == '*' || line == "COMMIT") continue;
      std::vector<std::string> argv = {tools_.single, "-t", "nat"};
      if (line[0] == ':') {
        std::string chain = line.substr(1, line.find(' ') - 1);
        bool exists = std::find(state_.own_chains.begin(), state_.own_chains.end(), chain) !=
                      state_.own_chains.end();
        argv.push_back(exists ? "-F" : "-N");
        argv.push_back(chain);
      } else {
        for (auto& word : Words(line)) argv.push_back(word);
      }
      ProcessResult result = run_(argv, "");
      if (result.spawn_errno != 0 || result.exit_code != 0) {
        std::string command;
        for (const auto& word : argv) command += (command.empty() ? "" : " ") + word;
        error_ = DescribeFailure(tools_.single, result) + " (running `" + command +
                 "`; the rules may be half applied: re-run cmesh-init, which replaces them, "
                 "or run it with --cleanup)";
        return false;
      }
    }
    return true;
  }

  IpFamily family_;
  Tools tools_;
  const Runner& run_;
  std::ostream& notes_;
  bool per_rule_ = false;
  NatState state_;
  std::string error_;
};

}  // namespace

std::string DescribeFailure(const std::string& tool, const ProcessResult& result) {
  if (result.spawn_errno == ENOENT) return tool + " was not found in PATH: " + InstallHint();
  if (result.spawn_errno != 0) {
    return "cannot run " + tool + ": " + std::strerror(result.spawn_errno);
  }
  std::string output = result.err.empty() ? result.out : result.err;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  for (const char* denied : {"Permission denied", "Operation not permitted", "you must be root"}) {
    if (output.find(denied) != std::string::npos) {
      return tool + " was refused (" + output +
             "): the process lacks CAP_NET_ADMIN in this network namespace; run cmesh-init as "
             "root with NET_ADMIN (in Kubernetes, the init container's securityContext adds the "
             "NET_ADMIN and NET_RAW capabilities)";
    }
  }
  std::string how = result.exit_code < 0 ? "was killed by a signal"
                                         : "failed with exit status " +
                                               std::to_string(result.exit_code);
  return tool + " " + how + (output.empty() ? "" : ": " + output);
}

IptablesResult ApplyCapture(const CaptureConfig& config, IpFamily family, const Runner& run,
                            std::ostream& notes) {
  Session session(family, run, notes);
  if (!session.ReadState()) return {false, session.error()};
  // Only the jumps from the chains we add ours to are replaced; a jump someone else put in their
  // own chain stays (our chains are flushed, never deleted, so it stays valid).
  std::vector<std::string> deletions;
  for (const auto& line : session.state().jump_deletions) {
    if (line.rfind("-D PREROUTING ", 0) == 0 || line.rfind("-D OUTPUT ", 0) == 0) {
      deletions.push_back(line);
    }
  }
  std::string input = RenderApply(BuildNatRules(config, family), deletions);
  if (!session.Write(input)) return {false, session.error()};
  return {true, ""};
}

IptablesResult CleanupCapture(IpFamily family, const Runner& run, std::ostream& notes) {
  Session session(family, run, notes);
  if (!session.ReadState()) return {false, session.error()};
  const NatState& state = session.state();
  if (state.own_chains.empty() && state.jump_deletions.empty()) return {true, ""};
  if (!session.Write(RenderCleanup(state.own_chains, state.jump_deletions))) {
    return {false, session.error()};
  }
  return {true, ""};
}

bool HasGlobalIpv6Address() {
  // Each line: address, interface index, prefix length, scope, flags, name (all hex but the
  // name). Scope 00 is global; loopback (10) and link-local (20) do not make a pod dual-stack.
  std::ifstream file("/proc/net/if_inet6");
  std::string address, index, prefix, scope, flags, name;
  while (file >> address >> index >> prefix >> scope >> flags >> name) {
    if (scope == "00") return true;
  }
  return false;
}

}  // namespace cmesh::proxy_init
