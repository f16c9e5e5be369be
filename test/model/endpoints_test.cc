// Endpoint resolution: EndpointSlices, else v1 Endpoints, else the pods the EndpointSlice
// controller would pick.
#include "cmesh/model/endpoints.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

namespace cmesh::model {
namespace {

Service MakeService(std::string name, std::string ns, Labels selector,
                    std::vector<ServicePort> ports) {
  Service s;
  s.meta.name = std::move(name);
  s.meta.ns = std::move(ns);
  s.selector = std::move(selector);
  s.ports = std::move(ports);
  return s;
}

ServicePort Port(std::string name, uint32_t port, PortRef target = {}) {
  ServicePort p;
  p.name = std::move(name);
  p.port = port;
  p.target_port = target;
  if (target.name.empty() && target.number == 0) p.target_port.number = port;
  return p;
}

PortRef Named(std::string name) { return PortRef{0, std::move(name)}; }
PortRef Number(uint32_t n) { return PortRef{n, ""}; }

Pod MakePod(std::string name, std::string ns, Labels labels, std::string ip,
            std::string phase = "Running", bool ready = true) {
  Pod p;
  p.meta.name = std::move(name);
  p.meta.ns = std::move(ns);
  p.meta.labels = std::move(labels);
  p.pod_ip = std::move(ip);
  p.phase = std::move(phase);
  p.ready = ready;
  return p;
}

std::vector<std::string> Addresses(const std::vector<ResolvedEndpoint>& eps) {
  std::vector<std::string> out;
  for (const auto& e : eps) out.push_back(e.address + ":" + std::to_string(e.port));
  return out;
}

using Strings = std::vector<std::string>;

TEST(EndpointsTest, PodsFallbackFiltersPhaseIpAndTermination) {
  ConfigSet c;
  c.pods.push_back(MakePod("running", "default", {{"app", "web"}}, "10.0.0.2"));
  c.pods.push_back(MakePod("pending", "default", {{"app", "web"}}, "10.0.0.3", "Pending"));
  c.pods.push_back(MakePod("failed", "default", {{"app", "web"}}, "10.0.0.4", "Failed"));
  c.pods.push_back(MakePod("done", "default", {{"app", "web"}}, "10.0.0.5", "Succeeded"));
  c.pods.push_back(MakePod("no-ip", "default", {{"app", "web"}}, ""));
  Pod terminating = MakePod("terminating", "default", {{"app", "web"}}, "10.0.0.6");
  terminating.terminating = true;
  c.pods.push_back(terminating);
  c.pods.push_back(MakePod("unready", "default", {{"app", "web"}}, "10.0.0.1", "Running", false));
  Service svc = MakeService("web", "default", {{"app", "web"}}, {Port("http", 80, Number(8080))});
  EndpointIndex index(c);
  auto eps = index.Resolve(svc, svc.ports[0]);
  // Sorted by address; the not-ready Running pod is kept with ready=false.
  EXPECT_EQ(Addresses(eps), (Strings{"10.0.0.1:8080", "10.0.0.2:8080"}));
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_FALSE(eps[0].ready);
  EXPECT_TRUE(eps[1].ready);
  EXPECT_EQ(eps[1].labels, (Labels{{"app", "web"}}));
  EXPECT_EQ(eps[1].zone, "");
}

TEST(EndpointsTest, PodsFallbackMatchesSelectorAndNamespace) {
  ConfigSet c;
  c.pods.push_back(MakePod("v1", "shop", {{"app", "web"}, {"version", "v1"}, {"extra", "x"}}, "10.0.0.1"));
  c.pods.push_back(MakePod("v2", "shop", {{"app", "web"}, {"version", "v2"}}, "10.0.0.2"));
  c.pods.push_back(MakePod("other-app", "shop", {{"app", "db"}, {"version", "v1"}}, "10.0.0.3"));
  c.pods.push_back(MakePod("other-ns", "default", {{"app", "web"}, {"version", "v1"}}, "10.0.0.4"));
  c.pods.push_back(MakePod("no-version", "shop", {{"app", "web"}}, "10.0.0.5"));
  EndpointIndex index(c);
  Service v1 = MakeService("web-v1", "shop", {{"app", "web"}, {"version", "v1"}}, {Port("http", 80)});
  EXPECT_EQ(Addresses(index.Resolve(v1, v1.ports[0])), (Strings{"10.0.0.1:80"}));
  Service all = MakeService("web", "shop", {{"app", "web"}}, {Port("http", 80)});
  EXPECT_EQ(Addresses(index.Resolve(all, all.ports[0])),
            (Strings{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.5:80"}));
  // Subset membership later uses these pod labels.
  auto eps = index.Resolve(all, all.ports[0]);
  EXPECT_EQ(eps[0].labels.at("version"), "v1");
  EXPECT_EQ(eps[1].labels.at("version"), "v2");
  // An empty selector selects no pods (Kubernetes leaves such endpoints to the user).
  Service none = MakeService("manual", "shop", {}, {Port("http", 80)});
  EXPECT_TRUE(index.Resolve(none, none.ports[0]).empty());
  // A selector value no pod carries.
  Service missing = MakeService("x", "shop", {{"app", "nothing"}}, {Port("http", 80)});
  EXPECT_TRUE(index.Resolve(missing, missing.ports[0]).empty());
}

TEST(EndpointsTest, PodsFallbackResolvesTargetPorts) {
  ConfigSet c;
  Pod a = MakePod("a", "default", {{"app", "web"}}, "10.0.0.1");
  a.ports = {{"metrics", 9090, "TCP"}, {"http-alt", 8080, "TCP"}};
  Pod b = MakePod("b", "default", {{"app", "web"}}, "10.0.0.2");
  b.ports = {{"http-alt", 8081, "TCP"}};  // the same name may map to another number per pod
  Pod lacking = MakePod("c", "default", {{"app", "web"}}, "10.0.0.3");
  lacking.ports = {{"metrics", 9090, "TCP"}};
  Pod udp = MakePod("d", "default", {{"app", "web"}}, "10.0.0.4");
  udp.ports = {{"http-alt", 8082, "UDP"}};  // protocol must match the service port's
  c.pods = {a, b, lacking, udp};
  EndpointIndex index(c);
  Service svc = MakeService("web", "default", {{"app", "web"}},
                            {Port("http", 80, Named("http-alt")), Port("grpc", 90, Number(9000)),
                             Port("plain", 70)});
  EXPECT_EQ(Addresses(index.Resolve(svc, svc.ports[0])), (Strings{"10.0.0.1:8080", "10.0.0.2:8081"}));
  // A numeric target port is used as is, whatever the pod declares.
  EXPECT_EQ(Addresses(index.Resolve(svc, svc.ports[1])),
            (Strings{"10.0.0.1:9000", "10.0.0.2:9000", "10.0.0.3:9000", "10.0.0.4:9000"}));
  // No target port: the service port.
  ServicePort bare;
  bare.name = "bare";
  bare.port = 71;  // target_port left empty
  EXPECT_EQ(Addresses(index.Resolve(svc, bare)),
            (Strings{"10.0.0.1:71", "10.0.0.2:71", "10.0.0.3:71", "10.0.0.4:71"}));
}

EndpointSlice MakeSlice(std::string name, std::string ns, std::string service,
                        std::vector<EndpointSlicePort> ports) {
  EndpointSlice s;
  s.meta.name = std::move(name);
  s.meta.ns = std::move(ns);
  s.service_name = std::move(service);
  s.ports = std::move(ports);
  return s;
}

SliceEndpoint SliceEp(std::string ip, std::optional<bool> ready, std::string pod = "",
                      std::string zone = "") {
  SliceEndpoint e;
  e.addresses = {std::move(ip)};
  e.ready = ready;
  if (!pod.empty()) e.target_ref = ObjectReference{"Pod", pod, "shop"};
  e.zone = std::move(zone);
  return e;
}

TEST(EndpointsTest, SlicesWinAndMatchPortsByName) {
  ConfigSet c;
  c.pods.push_back(MakePod("web-1", "shop", {{"app", "web"}, {"version", "v1"}}, "10.0.0.1"));
  c.pods.push_back(MakePod("web-2", "shop", {{"app", "web"}, {"version", "v2"}}, "10.0.0.2", "Pending"));
  EndpointSlice s1 = MakeSlice("web-a", "shop", "web", {{"http", 8080, "TCP", ""}, {"grpc", 9000, "TCP", ""}});
  s1.endpoints = {SliceEp("10.0.0.1", true, "web-1", "zone-a"), SliceEp("10.0.0.9", false),
                  SliceEp("10.0.0.8", std::nullopt), SliceEp("10.0.0.2", true, "web-2")};
  SliceEndpoint terminating = SliceEp("10.0.0.7", true);
  terminating.terminating = true;
  s1.endpoints.push_back(terminating);
  EndpointSlice s2 = MakeSlice("web-b", "shop", "web", {{"grpc", 9000, "TCP", ""}});
  s2.endpoints = {SliceEp("10.0.1.1", true)};
  EndpointSlice other_ns = MakeSlice("web-c", "default", "web", {{"http", 8080, "TCP", ""}});
  other_ns.endpoints = {SliceEp("10.9.9.9", true)};
  c.endpoint_slices = {s1, s2, other_ns};
  // v1 Endpoints exist too, but slices take precedence.
  Endpoints eps;
  eps.meta = {"web", "shop", {}, {}, ""};
  eps.subsets.push_back({{{"10.5.5.5", "", std::nullopt}}, {}, {{"http", 8080, "TCP", ""}}});
  c.endpoints.push_back(eps);
  EndpointIndex index(c);
  Service svc = MakeService("web", "shop", {{"app", "web"}}, {Port("http", 80, Number(8080)), Port("grpc", 90)});
  auto http = index.Resolve(svc, svc.ports[0]);
  // The Pending pod's endpoint is dropped; the others are kept, sorted.
  EXPECT_EQ(Addresses(http), (Strings{"10.0.0.1:8080", "10.0.0.7:8080", "10.0.0.8:8080", "10.0.0.9:8080"}));
  ASSERT_EQ(http.size(), 4u);
  EXPECT_TRUE(http[0].ready);
  EXPECT_EQ(http[0].zone, "zone-a");
  EXPECT_EQ(http[0].labels, (Labels{{"app", "web"}, {"version", "v1"}}));  // from the targetRef pod
  EXPECT_FALSE(http[1].ready);  // terminating
  EXPECT_TRUE(http[2].ready);   // no ready condition means ready
  EXPECT_TRUE(http[2].labels.empty());
  EXPECT_FALSE(http[3].ready);
  // The grpc port comes from both slices (the Pending pod still dropped); its number is the
  // slice's (9000), not the service's 90.
  EXPECT_EQ(Addresses(index.Resolve(svc, svc.ports[1])),
            (Strings{"10.0.0.1:9000", "10.0.0.7:9000", "10.0.0.8:9000", "10.0.0.9:9000",
                     "10.0.1.1:9000"}));
}

TEST(EndpointsTest, SliceGrpcPortExcludesPendingPod) {
  ConfigSet c;
  c.pods.push_back(MakePod("web-2", "shop", {{"app", "web"}}, "10.0.0.2", "Pending"));
  EndpointSlice s = MakeSlice("web-a", "shop", "web", {{"grpc", 9000, "TCP", ""}});
  s.endpoints = {SliceEp("10.0.0.2", true, "web-2"), SliceEp("10.0.0.3", true)};
  c.endpoint_slices = {s};
  EndpointIndex index(c);
  Service svc = MakeService("web", "shop", {{"app", "web"}}, {Port("grpc", 90)});
  EXPECT_EQ(Addresses(index.Resolve(svc, svc.ports[0])), (Strings{"10.0.0.3:9000"}));
}

TEST(EndpointsTest, EndpointsFallback) {
  ConfigSet c;
  c.pods.push_back(MakePod("web-1", "shop", {{"version", "v1"}}, "10.0.0.1"));
  Endpoints eps;
  eps.meta = {"web", "shop", {}, {}, ""};
  EndpointSubset subset;
  subset.addresses = {{"10.0.0.1", "node-a", ObjectReference{"Pod", "web-1", "shop"}},
                      {"10.0.0.3", "", std::nullopt}};
  subset.not_ready_addresses = {{"10.0.0.2", "", std::nullopt}};
  subset.ports = {{"http", 8080, "TCP", ""}, {"admin", 8081, "TCP", ""}};
  eps.subsets.push_back(subset);
  c.endpoints.push_back(eps);
  // A pod that the selector would match is ignored: Endpoints take precedence over pods.
  c.pods.push_back(MakePod("stray", "shop", {{"app", "web"}}, "10.0.0.50"));
  EndpointIndex index(c);
  Service svc = MakeService("web", "shop", {{"app", "web"}}, {Port("http", 80), Port("admin", 81)});
  auto http = index.Resolve(svc, svc.ports[0]);
  EXPECT_EQ(Addresses(http), (Strings{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"}));
  ASSERT_EQ(http.size(), 3u);
  EXPECT_TRUE(http[0].ready);
  EXPECT_EQ(http[0].labels, (Labels{{"version", "v1"}}));
  EXPECT_FALSE(http[1].ready);
  EXPECT_TRUE(http[2].ready);
  EXPECT_EQ(Addresses(index.Resolve(svc, svc.ports[1])),
            (Strings{"10.0.0.1:8081", "10.0.0.2:8081", "10.0.0.3:8081"}));
  // Same name in another namespace: no Endpoints there, so the pods of that namespace are used.
  Service elsewhere = MakeService("web", "default", {{"app", "web"}}, {Port("http", 80)});
  EXPECT_TRUE(index.Resolve(elsewhere, elsewhere.ports[0]).empty());
}

TEST(EndpointsTest, ExternalNameHasNoEndpoints) {
  ConfigSet c;
  c.pods.push_back(MakePod("a", "default", {{"app", "web"}}, "10.0.0.1"));
  Service svc = MakeService("web", "default", {{"app", "web"}}, {Port("http", 80)});
  svc.type = "ExternalName";
  svc.external_name = "example.com";
  EndpointIndex index(c);
  EXPECT_TRUE(index.Resolve(svc, svc.ports[0]).empty());
}

// 1,000 services with 10 pods each, all in one namespace, resolved from pods.
TEST(EndpointsTest, ResolvingAThousandServicesIsFast) {
  ConfigSet c;
  for (int s = 0; s < 1000; ++s) {
    std::string app = "svc-" + std::to_string(s);
    c.services.push_back(MakeService(app, "mesh", {{"app", app}}, {Port("http", 80, Number(8080))}));
    for (int p = 0; p < 10; ++p) {
      c.pods.push_back(MakePod(app + "-" + std::to_string(p), "mesh",
                               {{"app", app}, {"version", "v" + std::to_string(p % 3)}},
                               "10." + std::to_string(s / 250) + "." + std::to_string(s % 250) +
                                   "." + std::to_string(p + 1)));
    }
  }
  auto start = std::chrono::steady_clock::now();
  EndpointIndex index(c);
  size_t total = 0;
  for (const Service& svc : c.services) total += index.Resolve(svc, svc.ports[0]).size();
  auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  EXPECT_EQ(total, 10000u);
  // A scan of every pod per service would be 10 M label checks; the index makes it ~10 k. The
  // bound is loose because the machine is shared; the typical figure is printed.
  EXPECT_LT(elapsed.count(), 100.0);
  std::printf("index + resolve of 1000 services x 10 pods: %.2f ms\n", elapsed.count());
}

}  // namespace
}  // namespace cmesh::model
