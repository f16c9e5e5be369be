// Request and response header operations: Envoy's level order, removals before additions, the
// append actions, and ApplyHeaderOps' semantics.
#include <gtest/gtest.h>

#include "route_table_test_util.h"

namespace cmesh::router::testing {
namespace {

std::vector<OwnedHeader> Apply(std::span<const HeaderOp> ops, std::vector<OwnedHeader> headers = {}) {
  ApplyHeaderOps(ops, headers);
  return headers;
}

std::vector<std::string> Values(const std::vector<OwnedHeader>& headers, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& h : headers) {
    if (h.name == name) out.push_back(h.value);
  }
  return out;
}

std::string Add(const std::string& key, const std::string& value, const std::string& extra = "") {
  return R"({"header": {"key": ")" + key + R"(", "value": ")" + value + "\"}" +
         (extra.empty() ? "" : ", " + extra) + "}";
}

// Each level appends its name to x-level and overwrites x-o with its name.
std::string Levels(bool most_specific_wins, bool weighted) {
  auto ops = [](const std::string& level) {
    return R"("requestHeadersToAdd": [)" + Add("x-level", level) + ", " +
           Add("x-o", level, R"("appendAction": "OVERWRITE_IF_EXISTS_OR_ADD")") + "]";
  };
  const std::string cluster =
      weighted ? R"({"weightedClusters": {"clusters": [{"name": "c", "weight": 1, )" + ops("cluster") + "}]}}"
               : R"({"cluster": "c"})";
  return std::string(R"({"name": "rc", "mostSpecificHeaderMutationsWins": )") +
         (most_specific_wins ? "true" : "false") + ", " + ops("rc") +
         R"(, "virtualHosts": [{"name": "vh", "domains": ["*"], )" + ops("vh") +
         R"(, "routes": [{"match": {"prefix": "/"}, "route": )" + cluster + ", " + ops("route") +
         "}]}]}";
}

std::vector<OwnedHeader> RequestHeadersAfter(const std::string& config) {
  auto t = BuildJson(config);
  if (!t) return {};
  Random random(1);
  Request r = Get("/");
  return Apply(t->Decide(r.View(), random).request_header_ops);
}

TEST(HeaderOpsTest, MostSpecificLevelFirstByDefault) {
  auto headers = RequestHeadersAfter(Levels(false, false));
  EXPECT_EQ(Values(headers, "x-level"), (std::vector<std::string>{"route", "vh", "rc"}));
  // Applied last, the route configuration's overwrite wins (Envoy's default).
  EXPECT_EQ(Values(headers, "x-o"), (std::vector<std::string>{"rc"}));
}

TEST(HeaderOpsTest, MostSpecificHeaderMutationsWinsReversesTheOrder) {
  auto headers = RequestHeadersAfter(Levels(true, false));
  EXPECT_EQ(Values(headers, "x-level"), (std::vector<std::string>{"rc", "vh", "route"}));
  EXPECT_EQ(Values(headers, "x-o"), (std::vector<std::string>{"route"}));
}

TEST(HeaderOpsTest, WeightedClusterLevelComesFirst) {
  auto headers = RequestHeadersAfter(Levels(false, true));
  EXPECT_EQ(Values(headers, "x-level"),
            (std::vector<std::string>{"cluster", "route", "vh", "rc"}));
}

TEST(HeaderOpsTest, RemovalsBeforeAdditionsWithinALevel) {
  auto t = BuildJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"cluster": "c"},
      "requestHeadersToAdd": [)" + Add("x-a", "new") + R"(], "requestHeadersToRemove": ["X-A"]}])"));
  ASSERT_TRUE(t);
  Random random(1);
  Request r = Get("/");
  auto headers = Apply(t->Decide(r.View(), random).request_header_ops, {{"x-a", "old"}, {"X-A", "older"}});
  EXPECT_EQ(Values(headers, "x-a"), (std::vector<std::string>{"new"}));
  EXPECT_EQ(headers.size(), 1u);
}

TEST(HeaderOpsTest, AppendActions) {
  auto t = BuildJson(OneHost(R"([{"match": {"prefix": "/"}, "route": {"cluster": "c"}, "requestHeadersToAdd": [)" +
                             Add("x-append", "2") + ", " +
                             Add("x-if-absent", "new", R"("appendAction": "ADD_IF_ABSENT")") + ", " +
                             Add("x-if-absent-2", "new", R"("appendAction": "ADD_IF_ABSENT")") + ", " +
                             Add("x-if-exists", "new", R"("appendAction": "OVERWRITE_IF_EXISTS")") + ", " +
                             Add("x-if-exists-2", "new", R"("appendAction": "OVERWRITE_IF_EXISTS")") + ", " +
                             Add("x-legacy", "new", R"("append": false)") + ", " +
                             Add("x-legacy-append", "new", R"("append": true)") + ", " +
                             Add("x-empty", "") + ", " +
                             Add("x-kept-empty", "", R"("keepEmptyValue": true)") + ", " +
                             Add("x-percent", "100%%") + "]}]"));
  ASSERT_TRUE(t);
  Random random(1);
  Request r = Get("/");
  auto headers = Apply(t->Decide(r.View(), random).request_header_ops,
                       {{"x-append", "1"}, {"x-if-absent", "old"}, {"x-if-exists", "old"},
                        {"x-legacy", "old1"}, {"x-legacy", "old2"}, {"x-legacy-append", "old"}});
  EXPECT_EQ(Values(headers, "x-append"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(Values(headers, "x-if-absent"), (std::vector<std::string>{"old"}));
  EXPECT_EQ(Values(headers, "x-if-absent-2"), (std::vector<std::string>{"new"}));
  EXPECT_EQ(Values(headers, "x-if-exists"), (std::vector<std::string>{"new"}));
  EXPECT_EQ(Values(headers, "x-if-exists-2"), (std::vector<std::string>{}));
  EXPECT_EQ(Values(headers, "x-legacy"), (std::vector<std::string>{"new"}));
  EXPECT_EQ(Values(headers, "x-legacy-append"), (std::vector<std::string>{"old", "new"}));
  EXPECT_EQ(Values(headers, "x-empty"), (std::vector<std::string>{}));
  EXPECT_EQ(Values(headers, "x-kept-empty"), (std::vector<std::string>{""}));
  EXPECT_EQ(Values(headers, "x-percent"), (std::vector<std::string>{"100%"}));
}

TEST(HeaderOpsTest, ResponseOpsApplyToEveryOutcome) {
  const std::string ops = R"("responseHeadersToAdd": [)" + Add("x-served-by", "mesh") +
                          R"(], "responseHeadersToRemove": ["server"])";
  auto t = BuildJson(OneHost(R"([
      {"match": {"path": "/direct"}, "directResponse": {"status": 200}},
      {"match": {"path": "/redirect"}, "redirect": {"pathRedirect": "/x"}},
      {"match": {"prefix": "/"}, "route": {"cluster": "c"}}])", ops));
  ASSERT_TRUE(t);
  for (const char* path : {"/direct", "/redirect", "/forward"}) {
    Random random(1);
    Request r = Get(path);
    auto headers = Apply(t->Decide(r.View(), random).response_header_ops, {{"server", "backend"}});
    EXPECT_EQ(Values(headers, "x-served-by"), (std::vector<std::string>{"mesh"})) << path;
    EXPECT_EQ(Values(headers, "server"), (std::vector<std::string>{})) << path;
  }
}

}  // namespace
}  // namespace cmesh::router::testing
