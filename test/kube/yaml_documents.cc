#include "yaml_documents.h"

#include <yaml-cpp/yaml.h>

#include <sstream>

namespace cmesh::testing {

std::vector<std::string> SplitYamlDocuments(const std::string& text) {
  std::vector<std::string> docs(1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("---", 0) == 0) {
      docs.emplace_back();
      continue;
    }
    docs.back() += line + "\n";
  }
  std::vector<std::string> out;
  for (auto& d : docs) {
    if (d.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    // A document of comments only is empty too.
    bool content = false;
    std::istringstream lines(d);
    while (!content && std::getline(lines, line)) {
      auto first = line.find_first_not_of(" \t\r");
      content = first != std::string::npos && line[first] != '#';
    }
    if (content) out.push_back(std::move(d));
  }
  return out;
}

std::string YamlScalar(const std::string& document, const std::vector<std::string>& path) {
  try {
    YAML::Node node = YAML::Load(document);
    for (const std::string& key : path) {
      if (!node.IsMap()) return "";
      node = node[key];
    }
    return node.IsScalar() ? node.as<std::string>() : "";
  } catch (const YAML::Exception&) {
    return "";
  }
}

}  // namespace cmesh::testing
