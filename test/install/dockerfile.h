// A reader of the parts of a Dockerfile that test/install checks without a Docker engine: its
// stages, the Debian packages each installs, what each copies from another stage, its ARG defaults,
// USER and LABELs. Enough for our Dockerfile's forms, not a general parser.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace cmesh::testing {

struct DockerCopy {
  std::string from_stage;            // --from=NAME ("" for the build context)
  std::vector<std::string> sources;  // as written
  std::string destination;
};

struct DockerStage {
  std::string base;  // FROM's image
  std::string name;  // AS NAME
  std::vector<std::string> run_commands;   // each RUN, continuation lines joined
  std::vector<std::string> apt_packages;   // the words of every `apt-get install` that are not options
  std::vector<DockerCopy> copies;
  std::string user;                        // the last USER
  std::map<std::string, std::string> labels;
};

struct Dockerfile {
  std::map<std::string, std::string> global_args;  // ARG NAME=DEFAULT before the first FROM
  std::vector<DockerStage> stages;
  const DockerStage* Stage(const std::string& name) const;
};

// Instructions are case-insensitive; `\` at a line's end continues it; `#` lines are comments.
Dockerfile ParseDockerfile(const std::string& text);

}  // namespace cmesh::testing
