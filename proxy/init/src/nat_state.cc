#include "cmesh/proxy_init/nat_state.h"

#include <algorithm>
#include <sstream>

#include "cmesh/proxy_init/nat_rules.h"

namespace cmesh::proxy_init {
namespace {

bool IsOwn(const std::string& chain) {
  const auto& own = OwnChains();
  return std::find(own.begin(), own.end(), chain) != own.end();
}

}  // namespace

NatState ParseNatState(std::string_view save_output) {
  NatState state;
  std::istringstream lines{std::string(save_output)};
  std::string line;
  bool in_nat = true;  // `iptables -S` output has no table header
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      in_nat = line == "*nat";
      continue;
    }
    if (!in_nat) continue;
    std::string chain;
    if (line[0] == ':') {
      chain = line.substr(1, line.find(' ') - 1);
    } else if (line.rfind("-N ", 0) == 0) {
      chain = line.substr(3, line.find(' ', 3) - 3);
    } else if (line.rfind("-A ", 0) == 0) {
      std::istringstream words(line);
      std::string word, target;
      words >> word >> chain;
      while (words >> word) {
        if (word == "-j" || word == "-g" || word == "--jump" || word == "--goto") words >> target;
      }
      if (!IsOwn(chain) && IsOwn(target)) state.jump_deletions.push_back("-D" + line.substr(2));
      continue;
    } else {
      continue;
    }
    if (IsOwn(chain) &&
        std::find(state.own_chains.begin(), state.own_chains.end(), chain) ==
            state.own_chains.end()) {
      state.own_chains.push_back(chain);
    }
  }
  // Keep our creation order, whatever order the tool listed the chains in.
  std::vector<std::string> ordered;
  for (const auto& chain : OwnChains()) {
    if (std::find(state.own_chains.begin(), state.own_chains.end(), chain) !=
        state.own_chains.end()) {
      ordered.push_back(chain);
    }
  }
  state.own_chains = ordered;
  return state;
}

}  // namespace cmesh::proxy_init
