// Behaviour: TCP services get an IP-bound listener with tcp_proxy; VirtualService tcp routes
// pick the cluster; other addresses on the same port pass through.
#include <gtest/gtest.h>

#include "behaviour_mesh.h"

namespace cmesh::behaviour {
namespace {

using simulator::Decision;

constexpr char kDatabase[] = R"(
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: 10.96.0.60
  selector: {app: db}
  ports: [{name: tcp-postgres, port: 5432}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: default}
spec:
  host: db
  subsets:
  - {name: primary, labels: {role: primary}}
  - {name: replica, labels: {role: replica}}
)";

TEST(BehaviourTcpTest, TcpServiceHasAnIpBoundListener) {
  Mesh mesh(kDatabase);
  Decision d = mesh.Send(Productpage(), "http://db:5432/");
  EXPECT_EQ(d.listener, "10.96.0.60_5432");
  EXPECT_FALSE(d.http);
  EXPECT_EQ(d.outcome, Decision::Outcome::kTcpProxy);
  EXPECT_EQ(d.cluster, Cluster(5432, "", "db.default"));
}

TEST(BehaviourTcpTest, OtherAddressesOnTheSamePortPassThrough) {
  Mesh mesh(kDatabase);
  Decision d = mesh.Send(Productpage(), "http://10.0.0.99:5432/");
  EXPECT_EQ(d.listener, "virtualOutbound");
  EXPECT_EQ(d.cluster, "PassthroughCluster");
}

TEST(BehaviourTcpTest, VirtualServiceTcpRouteChoosesTheSubset) {
  Mesh mesh(std::string(kDatabase) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: default}
spec:
  hosts: [db]
  tcp:
  - match: [{port: 5432}]
    route: [{destination: {host: db, subset: primary}}]
)");
  Decision d = mesh.Send(Productpage(), "http://db.default:5432/");
  EXPECT_EQ(d.listener, "10.96.0.60_5432");
  EXPECT_EQ(Shares(d), (std::map<std::string, double>{{Cluster(5432, "primary", "db.default"), 100}}));
}

TEST(BehaviourTcpTest, VirtualServiceTcpWeights) {
  Mesh mesh(std::string(kDatabase) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: default}
spec:
  hosts: [db]
  tcp:
  - route:
    - {destination: {host: db, subset: primary}, weight: 90}
    - {destination: {host: db, subset: replica}, weight: 10}
)");
  Decision d = mesh.Send(Productpage(), "http://db:5432/");
  EXPECT_EQ(Shares(d), (std::map<std::string, double>{{Cluster(5432, "primary", "db.default"), 90},
                                                      {Cluster(5432, "replica", "db.default"), 10}}));
}

}  // namespace
}  // namespace cmesh::behaviour
