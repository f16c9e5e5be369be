// scripts/kube-up and scripts/kube-down on a private instance (their own CMESH_KUBE_DIR, ports and
// etcd), so that restarting and killing servers disturbs no other test. The binaries come from the
// cache the fixture `kube` has already filled.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "kube_env.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace cmesh::testing {
namespace {

using ::testing::HasSubstr;

bool Alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string skip, state;
  // "pid (comm) state ...": a zombie is dead for our purposes.
  return stat >> skip >> skip >> state && state != "Z";
}

bool WaitDead(int pid) {
  for (int i = 0; i < 200 && Alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return !Alive(pid);
}

class PrivateInstance {
 public:
  PrivateInstance() : dir_(tmp_.Path("kube")) {}
  ~PrivateInstance() { Script("kube-down"); }

  CommandResult Script(const std::string& name, const std::vector<std::string>& args = {}) const {
    std::vector<std::string> argv = {SourceDir() + "/scripts/" + name};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, {.stdin_text = "", .env = {"CMESH_KUBE_DIR=" + dir_}, .timeout = std::chrono::seconds(600)});
  }
  CommandResult Kubectl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {KubeBin("kubectl"), "--kubeconfig", dir_ + "/kubeconfig"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }
  int Pid(const std::string& server) const {
    std::ifstream in(dir_ + "/" + server + ".pid");
    int pid = -1;
    in >> pid;
    return pid;
  }
  const std::string& dir() const { return dir_; }

 private:
  TempDir tmp_;
  std::string dir_;
};

TEST(KubeScriptsTest, UpIsIdempotentRestartsTheApiserverAloneReplacesStaleInstancesAndDownCleansUp) {
  CMESH_REQUIRE_KUBE();  // the fixture has built the binaries this test reuses
  PrivateInstance kube;

  CommandResult up = kube.Script("kube-up");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(up.out, kube.dir() + "/kubeconfig\n");
  int etcd = kube.Pid("etcd"), apiserver = kube.Pid("kube-apiserver");
  ASSERT_TRUE(Alive(etcd));
  ASSERT_TRUE(Alive(apiserver));
  const std::string kubeconfig = ReadFile(kube.dir() + "/kubeconfig");

  // Twice: the healthy instance is kept as it is.
  up = kube.Script("kube-up");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(up.out, kube.dir() + "/kubeconfig\n");
  EXPECT_EQ(kube.Pid("etcd"), etcd);
  EXPECT_EQ(kube.Pid("kube-apiserver"), apiserver);

  CommandResult r = kube.Kubectl({"create", "configmap", "survivor", "-n", "default", "--from-literal=a=b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // --restart-apiserver: a new kube-apiserver on the same port and certificates, the same etcd.
  up = kube.Script("kube-up", {"--restart-apiserver"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_TRUE(WaitDead(apiserver));
  EXPECT_NE(kube.Pid("kube-apiserver"), apiserver);
  EXPECT_TRUE(Alive(kube.Pid("kube-apiserver")));
  EXPECT_EQ(kube.Pid("etcd"), etcd);
  EXPECT_EQ(ReadFile(kube.dir() + "/kubeconfig"), kubeconfig);
  r = kube.Kubectl({"get", "configmap", "survivor", "-n", "default", "-o", "jsonpath={.data.a}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "b");

  // A run killed hard leaves a half-dead instance: the next kube-up stops what is left and starts
  // afresh instead of trusting it.
  apiserver = kube.Pid("kube-apiserver");
  ASSERT_EQ(::kill(-apiserver, SIGKILL), 0);  // kube-up made it a process group leader (setsid)
  ASSERT_TRUE(WaitDead(apiserver));
  up = kube.Script("kube-up");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_THAT(up.err, HasSubstr("stale"));
  EXPECT_TRUE(WaitDead(etcd)) << "the old etcd was left running";
  EXPECT_TRUE(Alive(kube.Pid("etcd")));
  EXPECT_TRUE(Alive(kube.Pid("kube-apiserver")));
  r = kube.Kubectl({"get", "--raw", "/readyz"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok");

  // kube-down stops both and removes the state.
  etcd = kube.Pid("etcd");
  apiserver = kube.Pid("kube-apiserver");
  CommandResult down = kube.Script("kube-down");
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(WaitDead(etcd));
  EXPECT_TRUE(WaitDead(apiserver));
  EXPECT_FALSE(std::filesystem::exists(kube.dir()));
  // ... and is harmless when nothing runs.
  down = kube.Script("kube-down");
  EXPECT_EQ(down.exit_code, 0) << down.err;
}

TEST(KubeScriptsTest, RestartWithoutAnInstanceFailsClearly) {
  CMESH_REQUIRE_KUBE();
  PrivateInstance kube;
  CommandResult up = kube.Script("kube-up", {"--restart-apiserver"});
  EXPECT_NE(up.exit_code, 0);
  EXPECT_THAT(up.err, HasSubstr("no instance"));
  EXPECT_EQ(up.out, "");
}

}  // namespace
}  // namespace cmesh::testing
