#include "kube_vars.h"

namespace cmesh::install_e2e {

std::string ExpandKubeVars(const std::string& text, const std::map<std::string, std::string>& env) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    const std::size_t close = text[i + 1] == '(' ? text.find(')', i + 2) : std::string::npos;
    if (close == std::string::npos) {
      out += '$';
      continue;
    }
    auto it = env.find(text.substr(i + 2, close - i - 2));
    out += it == env.end() ? text.substr(i, close - i + 1) : it->second;
    i = close;
  }
  return out;
}

}  // namespace cmesh::install_e2e
