#include <gtest/gtest.h>

#include "cmesh/kube/kube_client.h"

namespace cmesh::kube {
namespace {

TEST(Cancellation, RunsRegisteredCallbacksOnceAtCancel) {
  Cancellation cancel;
  int a = 0;
  int b = 0;
  cancel.OnCancel([&] { ++a; });
  cancel.OnCancel([&] { ++b; });
  EXPECT_FALSE(cancel.cancelled());
  cancel.Cancel();
  cancel.Cancel();
  EXPECT_TRUE(cancel.cancelled());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
}

TEST(Cancellation, ForgottenCallbacksDoNotRun) {
  Cancellation cancel;
  int forgotten = 0;
  int kept = 0;
  std::uint64_t first = cancel.OnCancel([&] { ++forgotten; });
  std::uint64_t second = cancel.OnCancel([&] { ++kept; });
  EXPECT_NE(first, second);
  cancel.Forget(first);
  cancel.Forget(first);  // twice: harmless
  cancel.Cancel();
  EXPECT_EQ(forgotten, 0);
  EXPECT_EQ(kept, 1);
}

TEST(Cancellation, CallbackAfterCancelRunsAtOnce) {
  Cancellation cancel;
  cancel.Cancel();
  int ran = 0;
  std::uint64_t handle = cancel.OnCancel([&] { ++ran; });
  EXPECT_EQ(ran, 1);
  cancel.Forget(handle);  // nothing registered: harmless
}

}  // namespace
}  // namespace cmesh::kube
