// XdsClient against cmesh's own ADS server in process (XdsGrpcServer + SnapshotCache): the
// client converges to what is published, NACKs what its validator refuses while keeping the last
// good state, never delivers a state with a new hole, follows shrinking snapshots, and survives a
// server restart on the same port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cmesh/xds/xds_grpc_server.h"
#include "cmesh/xds_client/references.h"
#include "cmesh/xds_client/xds_client.h"
#include "test_resources.h"

namespace cmesh::xds_client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
namespace xds = cmesh::xds;
namespace xt = cmesh::xds::testing;

constexpr auto kDeadline = std::chrono::seconds(10);
constexpr char kGroup[] = "mesh";

template <typename Predicate>
bool WaitFor(Predicate done, std::chrono::milliseconds timeout = kDeadline) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

template <typename Map>
std::vector<std::string> Keys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}

// Every RDS name of the listeners has its route, and every EDS cluster its assignment.
std::vector<std::string> Holes(const XdsState& state) {
  std::vector<std::string> holes;
  for (const auto& [name, cluster] : state.clusters) {
    if (auto service = EdsServiceName(*cluster); service && !state.endpoints.contains(*service)) {
      holes.push_back("EDS " + *service);
    }
  }
  for (const auto& [name, listener] : state.listeners) {
    std::set<std::string, std::less<>> routes;
    AddRdsNames(*listener, routes);
    for (const std::string& route : routes) {
      if (!state.routes.contains(route)) holes.push_back("RDS " + route);
    }
  }
  return holes;
}

// The address of the single endpoint of an assignment.
std::string EndpointIp(const XdsState& state, const std::string& cluster) {
  auto it = state.endpoints.find(cluster);
  if (it == state.endpoints.end()) return "";
  const auto assignment = it->second.Decode();
  if (assignment.endpoints_size() == 0 || assignment.endpoints(0).lb_endpoints_size() == 0) return "";
  return assignment.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address();
}

// Refuses routes that send traffic to the cluster "poison".
class RefusePoison final : public DefaultResourceValidator {
 public:
  std::string ValidateRoute(const envoy::config::route::v3::RouteConfiguration& route) const override {
    for (const auto& host : route.virtual_hosts()) {
      for (const auto& r : host.routes()) {
        if (r.route().cluster() == "poison") return "route to the poison cluster";
      }
    }
    return DefaultResourceValidator::ValidateRoute(route);
  }
};

// One server generation: an XdsGrpcServer over the shared cache, on a given port (0: any).
struct Server {
  explicit Server(xds::SnapshotCache& cache) : server(cache, registry, [](const auto&) { return std::string(kGroup); }) {}
  bool Start(int port) {
    xds::XdsGrpcServerOptions options;
    options.address = "127.0.0.1";
    options.port = port;
    options.log = [](std::string_view) {};
    std::string error;
    bool ok = server.Start(options, &error);
    EXPECT_TRUE(ok) << error;
    return ok;
  }
  // The session of the connected client, once it has ACKed `version` of every type.
  std::optional<xds::SessionSummary> AwaitAcked(const xds::Snapshot& snapshot) {
    std::optional<xds::SessionSummary> found;
    WaitFor([&] {
      for (const auto& session : registry.List()) {
        bool all = true;
        for (xds::ResourceType type : xds::kPushOrder) {
          all = all && session.status.For(type).acked_version == snapshot.Version(type);
        }
        if (all) {
          found = session;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  xds::SessionRegistry registry;
  xds::XdsGrpcServer server;
};

class XdsClientServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Publish(xt::MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.2"}}));
    server = std::make_unique<Server>(cache);
    ASSERT_TRUE(server->Start(0));
  }
  void TearDown() override {
    if (client) client->Stop();
  }

  void Publish(xds::SnapshotPtr snapshot) {
    last_published = snapshot;
    ASSERT_THAT(cache.SetSnapshot(kGroup, std::move(snapshot)), IsEmpty());
  }

  void StartClient(std::shared_ptr<const ResourceValidator> validator = nullptr) {
    XdsClientOptions options;
    options.server = "127.0.0.1:" + std::to_string(server->server.port());
    options.node_id = "sidecar~10.0.0.9~client-1.default~default.svc.cluster.local";
    options.namespace_name = "default";
    options.labels = {{"app", "client"}};
    options.backoff_base = std::chrono::milliseconds(20);
    options.backoff_max = std::chrono::milliseconds(300);
    options.validator = std::move(validator);
    client = std::make_unique<XdsClient>(options, [this](XdsStatePtr state) {
      std::lock_guard lock(mutex);
      delivered.push_back(std::move(state));
    });
    client->Start();
  }

  // Waits for a delivered state matching `predicate`.
  XdsStatePtr AwaitState(const std::function<bool(const XdsState&)>& predicate) {
    XdsStatePtr found;
    WaitFor([&] {
      std::lock_guard lock(mutex);
      for (const auto& state : delivered) {
        if (predicate(*state)) found = state;
      }
      return found != nullptr;
    });
    return found;
  }
  std::vector<XdsStatePtr> Delivered() {
    std::lock_guard lock(mutex);
    return delivered;
  }
  static bool HasVersions(const XdsState& state, const xds::Snapshot& snapshot) {
    for (XdsType type : kXdsTypes) {
      if (state.version(type) != snapshot.Version(static_cast<xds::ResourceType>(Index(type)))) return false;
    }
    return true;
  }

  xds::SnapshotCache cache;
  xds::SnapshotPtr last_published;
  std::unique_ptr<Server> server;
  std::unique_ptr<XdsClient> client;
  std::mutex mutex;
  std::vector<XdsStatePtr> delivered;
};

TEST_F(XdsClientServerTest, ConvergesToTheSnapshotAndTheServerSeesEveryTypeAcked) {
  StartClient();
  const xds::Snapshot& snapshot = *last_published;
  XdsStatePtr state = AwaitState([&](const XdsState& s) { return HasVersions(s, snapshot); });
  ASSERT_NE(state, nullptr);
  EXPECT_THAT(Keys(state->clusters), ElementsAre("a", "b"));
  EXPECT_THAT(Keys(state->endpoints), ElementsAre("a", "b"));
  EXPECT_THAT(Keys(state->listeners), ElementsAre("a:80", "b:80"));
  EXPECT_THAT(Keys(state->routes), ElementsAre("a-route", "b-route"));
  EXPECT_EQ(EndpointIp(*state, "b"), "10.0.0.2");
  EXPECT_TRUE(state->complete());

  auto session = server->AwaitAcked(snapshot);
  ASSERT_TRUE(session.has_value());
  ASSERT_TRUE(session->status.node.has_value());
  EXPECT_EQ(session->status.node->id(), "sidecar~10.0.0.9~client-1.default~default.svc.cluster.local");
  EXPECT_EQ(session->status.node->metadata().fields().at("NAMESPACE").string_value(), "default");
  EXPECT_FALSE(session->status.last_nack.has_value());

  XdsClientStatus status = client->Status();
  EXPECT_TRUE(status.connected);
  EXPECT_EQ(status.nacks, 0u);
  EXPECT_EQ(status.streams, 1u);
  for (XdsType type : kXdsTypes) EXPECT_EQ(status.type(type).version, state->version(type)) << ShortName(type);
  EXPECT_EQ(status.type(XdsType::kRoute).subscribed, 2u);
}

TEST_F(XdsClientServerTest, RefusedRouteIsNackedThePreviousStateKeptAndTheNextGoodVersionAccepted) {
  StartClient(std::make_shared<RefusePoison>());
  xds::SnapshotPtr good = last_published;
  ASSERT_NE(AwaitState([&](const XdsState& s) { return HasVersions(s, *good); }), nullptr);

  // a-route now sends to "poison" (which also exists as a cluster, so the snapshot is consistent).
  {
    xds::SnapshotBuilder builder;
    for (const std::string service : {"a", "b", "poison"}) {
      builder.Add(xds::MakeResource(xt::Listener(service + ":80", service + "-route")));
      std::string target = service == "a" ? "poison" : service == "poison" ? "b" : service;
      builder.Add(xds::MakeResource(xt::Route(service + "-route", target)));
      builder.Add(xds::MakeResource(xt::EdsCluster(service)));
      builder.Add(xds::MakeResource(xt::Assignment(service, {"10.0.0.3"})));
    }
    Publish(std::move(builder).Build());
  }
  xds::SnapshotPtr bad = last_published;
  std::optional<xds::NackRecord> nack;
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& session : server->registry.List()) nack = session.status.last_nack;
    return nack.has_value();
  }));
  EXPECT_EQ(nack->type, xds::ResourceType::kRoute);
  EXPECT_EQ(nack->rejected_version, bad->Version(xds::ResourceType::kRoute));
  EXPECT_THAT(nack->message, HasSubstr("RouteConfiguration \"a-route\": route to the poison cluster"));

  // What the proxy serves: no state routes a to poison; the route config it has for a is the good one.
  XdsStatePtr current = client->Current();
  ASSERT_NE(current, nullptr);
  EXPECT_EQ(current->routes.at("a-route").Decode().virtual_hosts(0).routes(0).route().cluster(), "a");
  for (const XdsStatePtr& state : Delivered()) {
    EXPECT_EQ(state->routes.at("a-route").Decode().virtual_hosts(0).routes(0).route().cluster(), "a");
  }
  XdsClientStatus status = client->Status();
  EXPECT_EQ(status.nacks, 1u);
  ASSERT_TRUE(status.last_nack.has_value());
  EXPECT_EQ(status.last_nack->type, XdsType::kRoute);
  EXPECT_EQ(status.last_nack->rejected_version, bad->Version(xds::ResourceType::kRoute));
  EXPECT_THAT(status.last_nack->message, HasSubstr("a-route"));

  // The fix: a routes to b.
  {
    xds::SnapshotBuilder builder;
    for (const std::string service : {"a", "b"}) {
      builder.Add(xds::MakeResource(xt::Listener(service + ":80", service + "-route")));
      builder.Add(xds::MakeResource(xt::Route(service + "-route", service == "a" ? "b" : service)));
      builder.Add(xds::MakeResource(xt::EdsCluster(service)));
      builder.Add(xds::MakeResource(xt::Assignment(service, {"10.0.0.4"})));
    }
    Publish(std::move(builder).Build());
  }
  xds::SnapshotPtr fixed = last_published;
  XdsStatePtr state = AwaitState([&](const XdsState& s) { return HasVersions(s, *fixed); });
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(state->routes.at("a-route").Decode().virtual_hosts(0).routes(0).route().cluster(), "b");
  EXPECT_THAT(Keys(state->clusters), ElementsAre("a", "b"));
  ASSERT_TRUE(server->AwaitAcked(*fixed).has_value());
}

TEST_F(XdsClientServerTest, EveryDeliveredStateIsCompleteAcrossChangesThatAddAndMoveThings) {
  StartClient();
  ASSERT_NE(AwaitState([&](const XdsState& s) { return HasVersions(s, *last_published); }), nullptr);
  // Each step adds a service (a new cluster needing its EDS, a new listener needing its RDS) and
  // moves every endpoint: the server sends CDS, EDS, LDS, RDS as separate messages, so a client
  // that did not hold back would deliver the new clusters or listeners without what they need.
  std::map<std::string, std::string> services = {{"a", "10.0.0.1"}, {"b", "10.0.0.2"}};
  for (int step = 0; step < 5; ++step) {
    services["s" + std::to_string(step)] = "10.1.0." + std::to_string(step);
    for (auto& [name, ip] : services) ip = "10.2." + std::to_string(step) + "." + std::to_string(name.size());
    Publish(xt::MeshSnapshot(services));
    xds::SnapshotPtr snapshot = last_published;
    ASSERT_NE(AwaitState([&](const XdsState& s) { return HasVersions(s, *snapshot); }), nullptr) << "step " << step;
  }
  std::vector<XdsStatePtr> states = Delivered();
  ASSERT_GE(states.size(), 6u);
  std::uint64_t generation = 0;
  for (const XdsStatePtr& state : states) {
    EXPECT_THAT(Holes(*state), IsEmpty()) << "generation " << state->generation;
    EXPECT_TRUE(state->complete());
    EXPECT_EQ(state->generation, ++generation);
  }
  EXPECT_EQ(states.back()->listeners.size(), 7u);
}

TEST_F(XdsClientServerTest, ShrinkingSnapshotShrinksTheStateAndTheSubscriptions) {
  StartClient();
  ASSERT_NE(AwaitState([&](const XdsState& s) { return HasVersions(s, *last_published); }), nullptr);
  Publish(xt::MeshSnapshot({{"a", "10.0.0.1"}}));
  xds::SnapshotPtr small = last_published;
  // Versions only move for what a response carries: nothing of a changed, so no EDS or RDS
  // response comes, and the wildcard types' versions tell when the client has the new sets.
  XdsStatePtr state = AwaitState([&](const XdsState& s) {
    return s.version(XdsType::kCluster) == small->Version(xds::ResourceType::kCluster) &&
           s.version(XdsType::kListener) == small->Version(xds::ResourceType::kListener);
  });
  ASSERT_NE(state, nullptr);
  EXPECT_THAT(Keys(state->clusters), ElementsAre("a"));
  EXPECT_THAT(Keys(state->endpoints), ElementsAre("a"));
  EXPECT_THAT(Keys(state->listeners), ElementsAre("a:80"));
  EXPECT_THAT(Keys(state->routes), ElementsAre("a-route"));
  XdsClientStatus status = client->Status();
  EXPECT_EQ(status.type(XdsType::kEndpoint).subscribed, 1u);
  EXPECT_EQ(status.type(XdsType::kRoute).subscribed, 1u);

  // b comes back: it is subscribed again and delivered whole.
  Publish(xt::MeshSnapshot({{"a", "10.0.0.1"}, {"b", "10.0.0.5"}}));
  state = AwaitState([&](const XdsState& s) { return EndpointIp(s, "b") == "10.0.0.5" && s.routes.contains("b-route"); });
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(EndpointIp(*state, "b"), "10.0.0.5");
  EXPECT_TRUE(state->routes.contains("b-route"));
}

TEST_F(XdsClientServerTest, ServerRestartKeepsTheLastGoodStateThenConvergesToTheNewServer) {
  StartClient();
  XdsStatePtr before = AwaitState([&](const XdsState& s) { return HasVersions(s, *last_published); });
  ASSERT_NE(before, nullptr);
  const int port = server->server.port();

  server->server.Shutdown();
  ASSERT_TRUE(WaitFor([&] { return !client->Status().connected; }));
  // Let the client fail a few reconnects against the closed port.
  ASSERT_TRUE(WaitFor([&] { return client->Status().streams >= 3; }));
  EXPECT_EQ(client->Current(), before);
  for (const XdsStatePtr& state : Delivered()) EXPECT_FALSE(state->listeners.empty());
  std::size_t delivered_while_down = Delivered().size();

  // The restarted control plane serves a different mesh on the same port.
  xds::SnapshotCache new_cache;
  ASSERT_THAT(new_cache.SetSnapshot(kGroup, xt::MeshSnapshot({{"b", "10.0.0.2"}, {"c", "10.0.0.3"}})), IsEmpty());
  xds::SnapshotPtr fresh = new_cache.GetSnapshot(kGroup);
  auto restarted = std::make_unique<Server>(new_cache);
  ASSERT_TRUE(restarted->Start(port));
  XdsStatePtr after = AwaitState([&](const XdsState& s) { return HasVersions(s, *fresh); });
  ASSERT_NE(after, nullptr);
  EXPECT_THAT(Keys(after->clusters), ElementsAre("b", "c"));
  EXPECT_THAT(Keys(after->endpoints), ElementsAre("b", "c"));
  EXPECT_THAT(Keys(after->listeners), ElementsAre("b:80", "c:80"));
  EXPECT_THAT(Keys(after->routes), ElementsAre("b-route", "c-route"));
  EXPECT_TRUE(after->complete());
  EXPECT_TRUE(client->Status().connected);
  EXPECT_GE(client->Status().reconnects, 1u);
  ASSERT_TRUE(restarted->AwaitAcked(*fresh).has_value());
  // b is unchanged between the two servers: the very same object.
  EXPECT_EQ(after->clusters.at("b"), before->clusters.at("b"));
  // Every state between the two was complete (make-before-break across the restart too).
  std::vector<XdsStatePtr> states = Delivered();
  for (std::size_t i = delivered_while_down; i < states.size(); ++i) EXPECT_THAT(Holes(*states[i]), IsEmpty());
  client->Stop();
  restarted->server.Shutdown();
}

}  // namespace
}  // namespace cmesh::xds_client
