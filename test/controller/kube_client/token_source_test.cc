#include "cmesh/kube/token_source.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace cmesh::kube {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

// Gives a file a fixed modification time, so a rewrite of the same size looks unchanged by stat.
void SetMtime(const std::string& path, time_t when) {
  struct timespec times[2] = {{when, 0}, {when, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST(TokenSource, NoneAndFixed) {
  TokenSource none;
  EXPECT_EQ(none.Token(), "");
  EXPECT_FALSE(none.from_file());
  TokenSource fixed = TokenSource::Fixed(" abc \n");
  EXPECT_EQ(fixed.Token(), "abc");
  EXPECT_FALSE(fixed.Reload());
}

TEST(TokenSource, FileChangeIsSeenAtTheNextToken) {
  testing::TempDir dir;
  dir.Write("token", "first\n");
  SetMtime(dir.Path("token"), 1000);
  steady_clock::time_point now = steady_clock::now();
  TokenSource source = TokenSource::FromFile(dir.Path("token"), seconds(60), [&] { return now; });
  EXPECT_EQ(source.Token(), "first");
  dir.Write("token", "second-token\n");  // another size and mtime: the kubelet rotated it
  EXPECT_EQ(source.Token(), "second-token");
}

TEST(TokenSource, UnchangedLookingFileIsStillReReadEveryRecheckInterval) {
  testing::TempDir dir;
  dir.Write("token", "aaaa");
  SetMtime(dir.Path("token"), 1000);
  steady_clock::time_point now = steady_clock::now();
  TokenSource source = TokenSource::FromFile(dir.Path("token"), seconds(60), [&] { return now; });
  EXPECT_EQ(source.Token(), "aaaa");
  dir.Write("token", "bbbb");
  SetMtime(dir.Path("token"), 1000);  // same size, same mtime: stat cannot tell
  now += seconds(59);
  EXPECT_EQ(source.Token(), "aaaa");
  now += seconds(1);
  EXPECT_EQ(source.Token(), "bbbb");
}

TEST(TokenSource, ReloadAfterUnauthorizedReportsWhetherTheTokenChanged) {
  testing::TempDir dir;
  dir.Write("token", "aaaa");
  SetMtime(dir.Path("token"), 1000);
  steady_clock::time_point now = steady_clock::now();
  TokenSource source = TokenSource::FromFile(dir.Path("token"), seconds(60), [&] { return now; });
  EXPECT_FALSE(source.Reload());  // same token: retrying would fail the same way
  dir.Write("token", "bbbb");
  SetMtime(dir.Path("token"), 1000);
  EXPECT_TRUE(source.Reload());
  EXPECT_EQ(source.Token(), "bbbb");
}

TEST(TokenSource, UnreadableOrEmptyFileKeepsTheLastGoodToken) {
  testing::TempDir dir;
  dir.Write("token", "good");
  steady_clock::time_point now = steady_clock::now();
  TokenSource source = TokenSource::FromFile(dir.Path("token"), seconds(60), [&] { return now; });
  EXPECT_EQ(source.Token(), "good");
  EXPECT_EQ(source.error(), "");
  dir.Write("token", "");
  EXPECT_EQ(source.Token(), "good");
  EXPECT_NE(source.error().find("is empty"), std::string::npos);
  ASSERT_EQ(std::remove(dir.Path("token").c_str()), 0);
  now += seconds(61);
  EXPECT_EQ(source.Token(), "good");
  EXPECT_NE(source.error().find(dir.Path("token")), std::string::npos);
}

}  // namespace
}  // namespace cmesh::kube
