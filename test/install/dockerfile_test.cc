// What can be checked of the Dockerfile without a Docker engine (issue 7 §4): its stages, that the
// runtime stages copy binaries the build stage builds, that every shared library those binaries load
// comes from a Debian package their stage installs (ldd on build/bin, dpkg -S on this Debian 12
// machine, the images' base), and that the proxy image has the tools cmesh-init and the injected
// preStop hook run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include <unistd.h>

#include "dockerfile.h"
#include "kube_env.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

namespace fs = std::filesystem;

Dockerfile LoadDockerfile() { return ParseDockerfile(ReadFile(SourceDir() + "/Dockerfile")); }

// The Debian package that owns `path`: dpkg's database knows a file by the path its package ships,
// which may differ from what ldd or PATH show by a symlink (alternatives such as iptables-restore)
// or by the /usr merge (/lib/... vs /usr/lib/...). "" when no package owns it.
std::string PackageOf(const std::string& path) {
  std::vector<std::string> candidates = {path};
  std::error_code ec;
  const std::string real = fs::canonical(path, ec).string();
  if (!ec && real != path) candidates.push_back(real);
  for (std::string c : std::vector<std::string>(candidates)) {
    if (c.rfind("/usr/", 0) == 0) candidates.push_back(c.substr(4));
    else candidates.push_back("/usr" + c);
  }
  for (const std::string& c : candidates) {
    CommandResult r = RunCommand({"/usr/bin/dpkg", "-S", c});
    if (r.exit_code != 0) continue;
    // "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6" (one line per owner; diversions say so first)
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("diversion", 0) == 0) continue;
      std::string package = line.substr(0, line.find(": "));
      package = package.substr(0, package.find(':'));  // drop the architecture
      if (package.find(',') == std::string::npos && !package.empty()) return package;
    }
  }
  return "";
}

struct LddResult {
  std::vector<std::string> libraries;  // resolved paths, the dynamic loader included
  std::vector<std::string> missing;    // "not found" names
  std::string error;
};

LddResult Ldd(const std::string& binary) {
  LddResult out;
  CommandResult r = RunCommand({"/usr/bin/ldd", binary});
  if (r.exit_code != 0) {
    out.error = "ldd " + binary + ": " + r.err + r.out;
    return out;
  }
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string name, arrow, target;
    words >> name >> arrow >> target;
    if (arrow == "=>") {
      if (target == "not") out.missing.push_back(name);
      else if (target.rfind('/', 0) == 0) out.libraries.push_back(target);
    } else if (name.rfind('/', 0) == 0) {
      out.libraries.push_back(name);  // the loader: "/lib64/ld-linux-x86-64.so.2 (0x...)"
    }  // else linux-vdso.so.1: in the kernel, no file
  }
  return out;
}

// The first executable named `tool` in the directories a container's PATH has.
std::string Which(const std::string& tool) {
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    const std::string path = std::string(dir) + "/" + tool;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

std::set<std::string> BuildTargets(const DockerStage& build) {
  std::set<std::string> targets;
  for (const std::string& run : build.run_commands) {
    std::istringstream words(run);
    bool after = false;
    for (std::string w; words >> w;) {
      if (w == "&&" || w == ";") after = false;
      else if (w == "scripts/build") after = true;
      else if (after) targets.insert(w);
    }
  }
  return targets;
}

// name → the binaries (names) a runtime stage copies from the build stage.
std::vector<std::string> CopiedBinaries(const DockerStage& stage) {
  std::vector<std::string> names;
  for (const DockerCopy& copy : stage.copies) {
    for (const std::string& source : copy.sources) names.push_back(fs::path(source).filename().string());
  }
  return names;
}

TEST(DockerfileTest, HasABuildStageRunningScriptsBuildAndThePilotAndProxyTargets) {
  const Dockerfile file = LoadDockerfile();
  ASSERT_NE(file.Stage("build"), nullptr);
  ASSERT_NE(file.Stage("pilot"), nullptr);
  ASSERT_NE(file.Stage("proxy"), nullptr);
  bool runs_build = false;
  for (const std::string& run : file.Stage("build")->run_commands) {
    // scripts/build's outputs land in $CMESH_BUILD_DIR/bin; the runtime stages copy from /build/bin.
    if (run.find("CMESH_BUILD_DIR=/build scripts/build") != std::string::npos) runs_build = true;
  }
  EXPECT_TRUE(runs_build) << "the build stage must run scripts/build (as CI does) with CMESH_BUILD_DIR=/build";
  // The runtime stages start from the slim image of the Debian release the packages are named for.
  EXPECT_EQ(file.Stage("pilot")->base, "debian:12-slim");
  EXPECT_EQ(file.Stage("proxy")->base, "debian:12-slim");
  EXPECT_EQ(file.Stage("build")->base, "debian:12");
}

TEST(DockerfileTest, RuntimeStagesCopyExactlyTheirBinariesAndTheBuildStageBuildsThem) {
  const Dockerfile file = LoadDockerfile();
  ASSERT_NE(file.Stage("build"), nullptr);
  const std::set<std::string> targets = BuildTargets(*file.Stage("build"));
  const std::map<std::string, std::vector<std::string>> expected = {
      {"pilot", {"cmesh-pilot"}}, {"proxy", {"cmesh-init", "cmesh-proxy"}}};
  for (const auto& [stage_name, binaries] : expected) {
    const DockerStage* stage = file.Stage(stage_name);
    ASSERT_NE(stage, nullptr) << stage_name;
    std::vector<std::string> copied = CopiedBinaries(*stage);
    std::sort(copied.begin(), copied.end());
    EXPECT_EQ(copied, binaries) << stage_name;
    for (const DockerCopy& copy : stage->copies) {
      EXPECT_EQ(copy.from_stage, "build") << stage_name;
      for (const std::string& source : copy.sources) {
        const std::string name = fs::path(source).filename().string();
        EXPECT_EQ(source, "/build/bin/" + name) << stage_name << ": copies from outside the build's bin/";
        EXPECT_TRUE(targets.count(name)) << stage_name << " copies " << name
                                         << ", which the build stage's scripts/build does not build";
        // The same name exists in this build tree's bin/: a target the project really produces.
        EXPECT_EQ(access((BinDir() + "/" + name).c_str(), X_OK), 0)
            << name << " is not an executable in " << BinDir() << " (build it, or the Dockerfile names a "
            << "binary the project does not produce)";
        EXPECT_EQ(copy.destination.rfind("/usr/local/bin/", 0), 0u) << "on PATH, where the injected "
                                                                        "containers' bare commands find it";
      }
    }
  }
}

TEST(DockerfileTest, EveryLibraryOfARuntimeBinaryComesFromAPackageItsStageInstalls) {
  const Dockerfile file = LoadDockerfile();
  for (const char* stage_name : {"pilot", "proxy"}) {
    const DockerStage* stage = file.Stage(stage_name);
    ASSERT_NE(stage, nullptr) << stage_name;
    const std::set<std::string> installed(stage->apt_packages.begin(), stage->apt_packages.end());
    ASSERT_FALSE(installed.empty()) << stage_name;
    std::set<std::string> needed;
    for (const std::string& binary : CopiedBinaries(*stage)) {
      const std::string path = BinDir() + "/" + binary;
      ASSERT_EQ(access(path.c_str(), X_OK), 0) << path << " missing: build it first";
      LddResult ldd = Ldd(path);
      ASSERT_EQ(ldd.error, "");
      EXPECT_THAT(ldd.missing, ::testing::IsEmpty()) << binary;
      ASSERT_GT(ldd.libraries.size(), 1u) << binary << ": ldd found no libraries, a static binary?";
      for (const std::string& library : ldd.libraries) {
        const std::string package = PackageOf(library);
        EXPECT_NE(package, "") << binary << " loads " << library << ", which no Debian package provides "
                               << "(a library built here would have to be copied into the image)";
        if (package.empty()) continue;
        needed.insert(package);
        EXPECT_TRUE(installed.count(package)) << "stage " << stage_name << ": " << binary << " loads " << library
                                              << " from package " << package << ", which the stage does not install";
      }
    }
    // Not more than needed either, apart from the tools the stage installs on purpose.
    const std::set<std::string> tools = std::string(stage_name) == "proxy"
                                            ? std::set<std::string>{"iptables", "bash", "coreutils"}
                                            : std::set<std::string>{};
    for (const std::string& package : installed) {
      EXPECT_TRUE(needed.count(package) || tools.count(package))
          << "stage " << stage_name << " installs " << package << ", which none of its binaries loads";
    }
  }
}

TEST(DockerfileTest, TheProxyStageHasTheToolsCmeshInitAndThePreStopHookRun) {
  // cmesh-init runs iptables-save and iptables-restore (ip6tables-* with IPv6), found on PATH
  // (proxy/init/README.md); the template's preStop hook is a bash script using timeout, cat and sleep.
  const std::string tmpl = ReadFile(SourceDir() + "/webhook/injection-template.yaml");
  ASSERT_THAT(tmpl, ::testing::HasSubstr("\"/bin/bash\""));
  ASSERT_THAT(tmpl, ::testing::HasSubstr("timeout 2 cat"));
  ASSERT_THAT(tmpl, ::testing::HasSubstr("sleep "));
  const Dockerfile file = LoadDockerfile();
  const DockerStage* proxy = file.Stage("proxy");
  ASSERT_NE(proxy, nullptr);
  const std::set<std::string> installed(proxy->apt_packages.begin(), proxy->apt_packages.end());
  for (const char* tool : {"iptables-save", "iptables-restore", "ip6tables-save", "ip6tables-restore", "bash",
                           "timeout", "cat", "sleep"}) {
    const std::string path = Which(tool);
    ASSERT_NE(path, "") << tool << " is not installed on this machine, so its package is unknown";
    const std::string package = PackageOf(path);
    ASSERT_NE(package, "") << path;
    EXPECT_TRUE(installed.count(package)) << tool << " comes from " << package << ", not installed by the proxy stage";
  }
}

TEST(DockerfileTest, RuntimeImagesRunAsNonRootAndCarryTheVersion) {
  const Dockerfile file = LoadDockerfile();
  // One version everywhere: the project's, the images' label and the charts' appVersion (their
  // default image tag).
  std::smatch m;
  const std::string cmake = ReadFile(SourceDir() + "/CMakeLists.txt");
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(cmesh VERSION ([0-9.]+))")));
  const std::string version = m[1];
  ASSERT_TRUE(file.global_args.count("VERSION"));
  EXPECT_EQ(file.global_args.at("VERSION"), version);
  for (const char* chart : {"base", "cmesh"}) {
    const std::string text = ReadFile(SourceDir() + "/charts/" + chart + "/Chart.yaml");
    ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(appVersion: \"([^\"]+)\")"))) << chart;
    EXPECT_EQ(m[1], version) << chart;
  }
  for (const char* stage_name : {"pilot", "proxy"}) {
    const DockerStage* stage = file.Stage(stage_name);
    ASSERT_NE(stage, nullptr);
    // UID 1337, the proxy's (the injected container sets it as well) and the chart's pilot user.
    EXPECT_EQ(stage->user, "1337:1337") << stage_name;
    ASSERT_TRUE(stage->labels.count("org.opencontainers.image.version")) << stage_name;
    EXPECT_EQ(stage->labels.at("org.opencontainers.image.version"), "${VERSION}") << stage_name;
    EXPECT_EQ(stage->labels.at("org.opencontainers.image.title"), std::string("cmesh-") + stage_name);
  }
}

}  // namespace
}  // namespace cmesh::testing
