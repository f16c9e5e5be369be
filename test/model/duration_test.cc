#include "cmesh/model/duration.h"

#include <gtest/gtest.h>

namespace cmesh::model {
namespace {

constexpr int64_t kMs = 1000000;
constexpr int64_t kSec = 1000 * kMs;

TEST(DurationTest, ProtobufJsonForm) {
  EXPECT_EQ(ParseDuration("1.5s"), (Duration{1500 * kMs}));
  EXPECT_EQ(ParseDuration("300s"), (Duration{300 * kSec}));
  EXPECT_EQ(ParseDuration("0.000000001s"), (Duration{1}));
  EXPECT_EQ(ParseDuration("-2s"), (Duration{-2 * kSec}));
  EXPECT_EQ(ParseDuration("0"), (Duration{0}));
}

TEST(DurationTest, GoUnits) {
  EXPECT_EQ(ParseDuration("100ms"), (Duration{100 * kMs}));
  EXPECT_EQ(ParseDuration("1m"), (Duration{60 * kSec}));
  EXPECT_EQ(ParseDuration("1h"), (Duration{3600 * kSec}));
  EXPECT_EQ(ParseDuration("1m30s"), (Duration{90 * kSec}));
  EXPECT_EQ(ParseDuration("1.5h"), (Duration{5400 * kSec}));
  EXPECT_EQ(ParseDuration("5us"), (Duration{5000}));
  EXPECT_EQ(ParseDuration("5\xC2\xB5s"), (Duration{5000}));
  EXPECT_EQ(ParseDuration("7ns"), (Duration{7}));
}

TEST(DurationTest, Rejects) {
  EXPECT_FALSE(ParseDuration(""));
  EXPECT_FALSE(ParseDuration("10"));
  EXPECT_FALSE(ParseDuration("s"));
  EXPECT_FALSE(ParseDuration("1x"));
  EXPECT_FALSE(ParseDuration("1.s.5"));
  EXPECT_FALSE(ParseDuration("abc"));
  EXPECT_FALSE(ParseDuration("99999999999999999999s"));
  EXPECT_FALSE(ParseDuration("1 s"));
}

TEST(DurationTest, Format) {
  EXPECT_EQ(FormatDuration(Duration{5 * kSec}), "5s");
  EXPECT_EQ(FormatDuration(Duration{1500 * kMs}), "1.500s");
  EXPECT_EQ(FormatDuration(Duration{1000}), "0.000001s");
  EXPECT_EQ(FormatDuration(Duration{1}), "0.000000001s");
  EXPECT_EQ(FormatDuration(Duration{-kSec}), "-1s");
  EXPECT_EQ(FormatDuration(Duration{0}), "0s");
}

}  // namespace
}  // namespace cmesh::model
