#include "dockerfile.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace cmesh::testing {
namespace {

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

std::string Unquote(std::string text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  return text;
}

// The instructions, one string each: comments dropped, continuation lines joined with a space.
std::vector<std::string> Instructions(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string pending;
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;  // blank lines and comments inside a
                                                                      // continued RUN are skipped too
    const auto last = line.find_last_not_of(" \t\r");
    line = line.substr(first, last - first + 1);
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    out.push_back(pending + line);
    pending.clear();
  }
  if (!pending.empty()) out.push_back(pending);
  return out;
}

// The package words after each `apt-get install` of a shell command, up to the next `&&`, `;` or `|`.
std::vector<std::string> AptPackages(const std::string& command) {
  std::vector<std::string> out;
  const std::vector<std::string> words = Words(command);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] != "apt-get" || words[i + 1] != "install") continue;
    for (std::size_t j = i + 2; j < words.size(); ++j) {
      const std::string& w = words[j];
      if (w == "&&" || w == ";" || w == "|" || w == "||") break;
      if (w.rfind('-', 0) == 0) continue;  // -y, --no-install-recommends
      out.push_back(w);
    }
  }
  return out;
}

// LABEL k="v" k2="v 2" ...: values may hold spaces inside their quotes.
void ParseLabels(const std::string& rest, std::map<std::string, std::string>* labels) {
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i]))) ++i;
    const auto eq = rest.find('=', i);
    if (eq == std::string::npos) return;
    const std::string key = rest.substr(i, eq - i);
    std::string value;
    i = eq + 1;
    if (i < rest.size() && rest[i] == '"') {
      const auto close = rest.find('"', i + 1);
      value = rest.substr(i + 1, close - i - 1);
      i = close == std::string::npos ? rest.size() : close + 1;
    } else {
      const auto end = rest.find_first_of(" \t", i);
      value = rest.substr(i, end - i);
      i = end == std::string::npos ? rest.size() : end;
    }
    (*labels)[key] = value;
  }
}

}  // namespace

const DockerStage* Dockerfile::Stage(const std::string& name) const {
  for (const DockerStage& stage : stages) {
    if (stage.name == name) return &stage;
  }
  return nullptr;
}

Dockerfile ParseDockerfile(const std::string& text) {
  Dockerfile file;
  for (const std::string& instruction : Instructions(text)) {
    const auto space = instruction.find_first_of(" \t");
    const std::string keyword = Upper(instruction.substr(0, space));
    const std::string rest = space == std::string::npos ? "" : instruction.substr(space + 1);
    const std::vector<std::string> words = Words(rest);
    if (keyword == "FROM") {
      DockerStage stage;
      stage.base = words.empty() ? "" : words[0];
      if (words.size() >= 3 && Upper(words[1]) == "AS") stage.name = words[2];
      file.stages.push_back(std::move(stage));
      continue;
    }
    if (file.stages.empty()) {
      if (keyword == "ARG" && !words.empty()) {
        const auto eq = words[0].find('=');
        file.global_args[words[0].substr(0, eq)] = eq == std::string::npos ? "" : Unquote(words[0].substr(eq + 1));
      }
      continue;
    }
    DockerStage& stage = file.stages.back();
    if (keyword == "RUN") {
      stage.run_commands.push_back(rest);
      for (std::string& p : AptPackages(rest)) stage.apt_packages.push_back(std::move(p));
    } else if (keyword == "COPY") {
      DockerCopy copy;
      std::vector<std::string> paths;
      for (const std::string& w : words) {
        if (w.rfind("--from=", 0) == 0) copy.from_stage = w.substr(7);
        else if (w.rfind("--", 0) != 0) paths.push_back(w);
      }
      if (!paths.empty()) {
        copy.destination = paths.back();
        paths.pop_back();
        copy.sources = std::move(paths);
      }
      stage.copies.push_back(std::move(copy));
    } else if (keyword == "USER") {
      stage.user = rest;
    } else if (keyword == "LABEL") {
      ParseLabels(rest, &stage.labels);
    }
  }
  return file;
}

}  // namespace cmesh::testing
