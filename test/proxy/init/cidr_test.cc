#include "cmesh/proxy_init/cidr.h"

#include <gtest/gtest.h>

namespace cmesh::proxy_init {
namespace {

Cidr Parse(const char* text) {
  auto parsed = ParseCidr(text);
  EXPECT_TRUE(std::holds_alternative<Cidr>(parsed)) << text;
  return std::holds_alternative<Cidr>(parsed) ? std::get<Cidr>(parsed) : Cidr{};
}

std::string Error(const char* text) {
  auto parsed = ParseCidr(text);
  EXPECT_TRUE(std::holds_alternative<std::string>(parsed)) << text;
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "";
}

TEST(InitCidr, ParsesIpv4AndIpv6) {
  EXPECT_EQ(Parse("10.0.0.0/8").ToString(), "10.0.0.0/8");
  EXPECT_EQ(Parse("10.0.0.0/8").family, IpFamily::kV4);
  EXPECT_EQ(Parse("fd00::/8").ToString(), "fd00::/8");
  EXPECT_EQ(Parse("fd00::/8").family, IpFamily::kV6);
  EXPECT_EQ(Parse("0.0.0.0/0").ToString(), "0.0.0.0/0");
}

TEST(InitCidr, ClearsHostBitsAsIptablesSavePrintsThem) {
  EXPECT_EQ(Parse("10.1.2.3/8").ToString(), "10.0.0.0/8");
  EXPECT_EQ(Parse("192.168.77.200/20").ToString(), "192.168.64.0/20");
  EXPECT_EQ(Parse("fd00:1:2::5/32").ToString(), "fd00:1::/32");
}

TEST(InitCidr, BareAddressIsAHostNetwork) {
  EXPECT_EQ(Parse("10.96.0.1").ToString(), "10.96.0.1/32");
  EXPECT_EQ(Parse("::1").ToString(), "::1/128");
}

TEST(InitCidr, Contains) {
  EXPECT_TRUE(Parse("127.0.0.0/8").Contains(Parse("127.0.0.1")));
  EXPECT_TRUE(Parse("0.0.0.0/0").Contains(Parse("127.0.0.1")));
  EXPECT_FALSE(Parse("10.0.0.0/8").Contains(Parse("127.0.0.1")));
  EXPECT_FALSE(Parse("::/0").Contains(Parse("127.0.0.1")));  // another family
  EXPECT_TRUE(Parse("::/0").Contains(Parse("::1")));
}

TEST(InitCidr, RejectsWhatIsNotACidr) {
  EXPECT_NE(Error("10.0.0.0/33").find("between 0 and 32"), std::string::npos);
  EXPECT_NE(Error("fd00::/129").find("between 0 and 128"), std::string::npos);
  EXPECT_NE(Error("300.1.1.1/8").find("not an IPv4 or IPv6 address"), std::string::npos);
  EXPECT_NE(Error("10.0.0.0/").find("prefix length"), std::string::npos);
  EXPECT_NE(Error("10.0.0.0/8x").find("prefix length"), std::string::npos);
  EXPECT_NE(Error("").find("not an IPv4 or IPv6 address"), std::string::npos);
  EXPECT_NE(Error("example.com/8").find("not an IPv4 or IPv6 address"), std::string::npos);
}

}  // namespace
}  // namespace cmesh::proxy_init
