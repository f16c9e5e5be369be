#include "cmesh/proxy_init/flags.h"

#include <gtest/gtest.h>

namespace cmesh::proxy_init {
namespace {

Options Parse(std::vector<std::string> args) {
  auto parsed = ParseFlags(args);
  if (auto* error = std::get_if<FlagError>(&parsed)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return std::get<Options>(parsed);
}

std::string Error(std::vector<std::string> args) {
  auto parsed = ParseFlags(args);
  if (!std::holds_alternative<FlagError>(parsed)) {
    ADD_FAILURE() << "accepted";
    return "";
  }
  return std::get<FlagError>(parsed).message;
}

std::string Cidrs(const std::vector<Cidr>& cidrs) {
  std::string text;
  for (const auto& cidr : cidrs) text += (text.empty() ? "" : ",") + cidr.ToString();
  return text;
}

TEST(InitFlags, DefaultsAreIstios) {
  Options options = Parse({});
  const CaptureConfig& c = options.capture;
  EXPECT_EQ(c.outbound_capture_port, 15001);
  EXPECT_EQ(c.inbound_capture_port, 15006);
  EXPECT_EQ(c.inbound_tunnel_port, 15008);
  EXPECT_EQ(c.proxy_uids, std::vector<std::uint32_t>{1337});
  EXPECT_EQ(c.proxy_gids, std::vector<std::uint32_t>{1337});
  EXPECT_TRUE(c.inbound_ports.all);
  EXPECT_TRUE(c.include_all_outbound_ranges);
  EXPECT_TRUE(c.exclude_inbound_ports.empty());
  EXPECT_TRUE(c.include_outbound_ports.empty());
  EXPECT_TRUE(c.exclude_outbound_ports.empty());
  EXPECT_TRUE(c.exclude_outbound_ranges.empty());
  EXPECT_EQ(c.ipv6, Ipv6Mode::kAuto);
  EXPECT_FALSE(options.dry_run);
  EXPECT_FALSE(options.cleanup);
  EXPECT_EQ(EffectiveExcludedInboundPorts(c), (std::vector<std::uint16_t>{15090, 15021, 15020}));
}

TEST(InitFlags, EachFlagSetsItsField) {
  Options o = Parse({"--inbound-ports", "8080, 9090", "--exclude-inbound-ports=22,15020",
                     "--outbound-ports", "9000", "--exclude-outbound-ports", "3306,5432",
                     "--include-outbound-ip-ranges", "10.0.0.0/8,fd00::/8",
                     "--exclude-outbound-ip-ranges", "10.96.0.1/32", "--proxy-uid", "1000,1001",
                     "--proxy-gid=2000", "--inbound-capture-port", "16006",
                     "--outbound-capture-port", "16001", "--inbound-tunnel-port", "16008",
                     "--ipv6", "on", "--dry-run", "--cleanup"});
  const CaptureConfig& c = o.capture;
  EXPECT_FALSE(c.inbound_ports.all);
  EXPECT_EQ(c.inbound_ports.ports, (std::vector<std::uint16_t>{8080, 9090}));
  EXPECT_EQ(c.exclude_inbound_ports, (std::vector<std::uint16_t>{22, 15020}));
  // The always-excluded ports come first, and 15020 is not repeated.
  EXPECT_EQ(EffectiveExcludedInboundPorts(c),
            (std::vector<std::uint16_t>{15090, 15021, 15020, 22}));
  EXPECT_EQ(c.include_outbound_ports, std::vector<std::uint16_t>{9000});
  EXPECT_EQ(c.exclude_outbound_ports, (std::vector<std::uint16_t>{3306, 5432}));
  EXPECT_FALSE(c.include_all_outbound_ranges);
  EXPECT_EQ(Cidrs(c.include_outbound_ranges), "10.0.0.0/8,fd00::/8");
  EXPECT_EQ(Cidrs(c.exclude_outbound_ranges), "10.96.0.1/32");
  EXPECT_EQ(c.proxy_uids, (std::vector<std::uint32_t>{1000, 1001}));
  EXPECT_EQ(c.proxy_gids, std::vector<std::uint32_t>{2000});
  EXPECT_EQ(c.inbound_capture_port, 16006);
  EXPECT_EQ(c.outbound_capture_port, 16001);
  EXPECT_EQ(c.inbound_tunnel_port, 16008);
  EXPECT_EQ(c.ipv6, Ipv6Mode::kOn);
  EXPECT_TRUE(o.dry_run);
  EXPECT_TRUE(o.cleanup);
}

TEST(InitFlags, IncludeOutboundPortsIsAnAliasOfOutboundPorts) {
  EXPECT_EQ(Parse({"--include-outbound-ports=80,443"}).capture.include_outbound_ports,
            (std::vector<std::uint16_t>{80, 443}));
}

TEST(InitFlags, WildcardsAndEmptyLists) {
  EXPECT_TRUE(Parse({"--inbound-ports", "*"}).capture.inbound_ports.all);
  Options none = Parse({"--inbound-ports", ""});
  EXPECT_FALSE(none.capture.inbound_ports.all);
  EXPECT_TRUE(none.capture.inbound_ports.ports.empty());
  Options all_ranges = Parse({"--include-outbound-ip-ranges=10.0.0.0/8",
                              "--include-outbound-ip-ranges=*"});  // the last one wins
  EXPECT_TRUE(all_ranges.capture.include_all_outbound_ranges);
  EXPECT_TRUE(all_ranges.capture.include_outbound_ranges.empty());
  Options no_ranges = Parse({"--include-outbound-ip-ranges="});
  EXPECT_FALSE(no_ranges.capture.include_all_outbound_ranges);
  EXPECT_TRUE(no_ranges.capture.include_outbound_ranges.empty());
  EXPECT_EQ(Parse({"--ipv6=off"}).capture.ipv6, Ipv6Mode::kOff);
}

// Every message names the flag and the value.
void ExpectNames(const std::string& message, const std::string& flag, const std::string& value) {
  EXPECT_NE(message.find(flag), std::string::npos) << message;
  EXPECT_NE(message.find("\"" + value + "\""), std::string::npos) << message;
}

TEST(InitFlags, BadPortsAreRefused) {
  ExpectNames(Error({"--exclude-inbound-ports", "15020,70000"}), "--exclude-inbound-ports", "70000");
  ExpectNames(Error({"--inbound-ports", "0"}), "--inbound-ports", "0");
  ExpectNames(Error({"--outbound-ports", "http"}), "--outbound-ports", "http");
  ExpectNames(Error({"--exclude-outbound-ports", "8000-8080"}), "--exclude-outbound-ports",
              "8000-8080");
  ExpectNames(Error({"--exclude-outbound-ports", "80,,443"}), "--exclude-outbound-ports", "80,,443");
  ExpectNames(Error({"--exclude-outbound-ports", "-1"}), "--exclude-outbound-ports", "-1");
  ExpectNames(Error({"--inbound-capture-port", "65536"}), "--inbound-capture-port", "65536");
  ExpectNames(Error({"--outbound-capture-port="}), "--outbound-capture-port", "");
  ExpectNames(Error({"--inbound-tunnel-port", "x"}), "--inbound-tunnel-port", "x");
  // "*" only where the annotation allows it, and only as the whole list.
  ExpectNames(Error({"--exclude-inbound-ports", "*"}), "--exclude-inbound-ports", "*");
  ExpectNames(Error({"--outbound-ports", "*"}), "--outbound-ports", "*");
  ExpectNames(Error({"--inbound-ports", "80,*"}), "--inbound-ports", "80,*");
}

TEST(InitFlags, BadCidrsAreRefused) {
  std::string message = Error({"--include-outbound-ip-ranges", "10.0.0.0/8,10.0.0.0/33"});
  ExpectNames(message, "--include-outbound-ip-ranges", "10.0.0.0/8,10.0.0.0/33");
  EXPECT_NE(message.find("\"10.0.0.0/33\" is not a CIDR"), std::string::npos) << message;
  ExpectNames(Error({"--exclude-outbound-ip-ranges", "10.0.0/8"}), "--exclude-outbound-ip-ranges",
              "10.0.0/8");
  ExpectNames(Error({"--exclude-outbound-ip-ranges", "*"}), "--exclude-outbound-ip-ranges", "*");
  ExpectNames(Error({"--include-outbound-ip-ranges", "*,10.0.0.0/8"}),
              "--include-outbound-ip-ranges", "*,10.0.0.0/8");
}

TEST(InitFlags, BadIdsAndModesAreRefused) {
  ExpectNames(Error({"--proxy-uid", "istio-proxy"}), "--proxy-uid", "istio-proxy");
  ExpectNames(Error({"--proxy-gid", "1337,"}), "--proxy-gid", "1337,");
  ExpectNames(Error({"--proxy-uid", "4294967295"}), "--proxy-uid", "4294967295");
  ExpectNames(Error({"--ipv6", "maybe"}), "--ipv6", "maybe");
}

TEST(InitFlags, UsageErrors) {
  EXPECT_NE(Error({"--inbound-port", "80"}).find("unknown flag \"--inbound-port\""),
            std::string::npos);
  EXPECT_NE(Error({"--proxy-uid"}).find("--proxy-uid needs a value"), std::string::npos);
  EXPECT_NE(Error({"--dry-run=yes"}).find("--dry-run takes no value"), std::string::npos);
  EXPECT_NE(Error({"extra"}).find("unknown flag \"extra\""), std::string::npos);
}

}  // namespace
}  // namespace cmesh::proxy_init
