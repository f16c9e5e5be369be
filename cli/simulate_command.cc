// cmeshctl simulate: which route a request from a proxy takes, and where it goes.
#include <ostream>
#include <set>

#include "args.h"
#include "cmesh/simulator/explain.h"
#include "cmesh/simulator/simulator.h"
#include "commands.h"
#include "decision_json.h"
#include "proxy_inputs.h"
#include "rule_locator.h"

namespace cmesh::cli {
namespace {

std::string Help() {
  return std::string(
             "Usage: cmeshctl simulate -f PATH... --proxy NODE_ID --url http://HOST:PORT/PATH\n"
             "                         [-X METHOD] [-H 'Name: value']... [-o text|json]\n"
             "\n"
             "Compiles the proxy's Envoy configuration and explains what its sidecar does with the\n"
             "request: the listener, route configuration, virtual host, the VirtualService rule that\n"
             "matched (or the default route), and where the request goes (cluster, weighted\n"
             "clusters, redirect, direct response) with timeout, retries, fault, mirrors, rewrites.\n"
             "HOST is resolved to a Service of the input the way cluster DNS would (a short name in\n"
             "the proxy's namespace, NAME.NS, NAME.NS.svc, the FQDN) to select IP-bound listeners.\n"
             "\n"
             "Options:\n") +
         kProxyOptionsHelp +
         "      --url URL            the request URL (http or https)\n"
         "  -X, --request METHOD     HTTP method (default GET)\n"
         "  -H, --header 'K: V'      request header; repeatable ('Host: x' sets the authority)\n"
         "  -o, --output text|json   output format (default text)\n"
         "  -h, --help               show this help\n"
         "\n"
         "Exit status: 0 success, 1 configuration errors (the simulation is still printed),\n"
         "2 usage error.\n";
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The cluster IP `host` resolves to from the proxy's namespace, as kube-dns answers.
std::string ResolveHost(const std::string& host, const ProxyInputs& in) {
  for (const auto& s : in.parsed.config.services) {
    if (s.cluster_ip.empty() || s.cluster_ip == "None") continue;
    const std::string name_ns = s.meta.name + "." + s.meta.ns;
    if (host == name_ns || host == name_ns + ".svc" || host == name_ns + ".svc." + in.options.domain_suffix ||
        (host == s.meta.name && s.meta.ns == in.proxy.ns)) {
      return s.cluster_ip;
    }
  }
  return "";
}

// "http[1].match[0]" for the matched route, or "" when it cannot be told for sure.
std::string DescribeRule(const simulator::Decision& d, const ProxyInputs& in,
                         const compiler::XdsResources& resources, uint32_t port) {
  if (!d.config || d.route_index < 0) return "";
  const model::VirtualService* vs = nullptr;
  for (const auto& v : in.parsed.config.virtual_services) {
    if (v.meta.ns == d.config->ns && v.meta.name == d.config->name) vs = &v;
  }
  if (!vs) return "";
  size_t ordinal = 0;
  for (const auto& rc : resources.routes) {
    if (rc.resource.name() != d.route_config) continue;
    for (const auto& vh : rc.resource.virtual_hosts()) {
      if (vh.name() != d.virtual_host) continue;
      for (int i = 0; i < d.route_index && i < vh.routes_size(); ++i) {
        auto istio = vh.routes(i).metadata().filter_metadata().find("istio");
        if (istio == vh.routes(i).metadata().filter_metadata().end()) continue;
        auto config = istio->second.fields().find("config");
        if (config != istio->second.fields().end() && config->second.string_value() == d.config->raw) ++ordinal;
      }
    }
  }
  auto location = LocateRule(*vs, in.proxy, port, ordinal, d.route_name);
  if (!location) return "";
  std::string out = "http[" + std::to_string(location->rule_index) + "]";
  if (location->match_index) out += ".match[" + std::to_string(*location->match_index) + "]";
  return out;
}

}  // namespace

int RunSimulate(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto specs = ProxyOptionSpecs();
  specs.push_back({{"--url"}, true, false});
  specs.push_back({{"-X", "--request"}, true, false});
  specs.push_back({{"-H", "--header"}, true, true});
  specs.push_back({{"-o", "--output"}, true, false});
  int exit_code = kExitOk;
  auto args = ParseCommandLine(argv, specs, Help(), out, err, &exit_code);
  if (!args) return exit_code;
  if (!args->Has("url")) {
    err << "error: --url is required\n\n" << Help();
    return kExitUsage;
  }
  const std::string format = args->Get("output", "text");
  if (format != "text" && format != "json") {
    err << "error: -o must be text or json\n";
    return kExitUsage;
  }
  std::string error;
  auto request = simulator::ParseUrl(args->Get("url"), &error);
  if (!request) {
    err << "error: --url: " << error << "\n";
    return kExitUsage;
  }
  if (args->Has("request")) request->method = args->Get("request");
  for (const auto& h : args->All("header")) {
    size_t colon = h.find(':', 1);  // a leading ':' belongs to a pseudo-header name
    if (colon == std::string::npos || Trim(h.substr(0, colon)).empty()) {
      err << "error: -H \"" << h << "\": expected 'Name: value'\n";
      return kExitUsage;
    }
    request->headers.emplace_back(Trim(h.substr(0, colon)), Trim(h.substr(colon + 1)));
  }

  auto inputs = LoadProxyInputs(*args, err, &exit_code);
  if (!inputs) {
    if (exit_code == kExitUsage) err << "\n" << Help();
    return exit_code;
  }
  compiler::XdsResources resources = CompileFor(*inputs, err);
  request->destination_ip = ResolveHost(request->host, *inputs);

  std::vector<envoy::config::listener::v3::Listener> listeners;
  for (const auto& l : resources.listeners) listeners.push_back(l.resource);
  std::vector<envoy::config::route::v3::RouteConfiguration> routes;
  for (const auto& r : resources.routes) routes.push_back(r.resource);
  std::set<std::string> clusters;
  for (const auto& c : resources.clusters) clusters.insert(c.resource.name());
  simulator::Simulator sim(std::move(listeners), std::move(routes), std::move(clusters));
  simulator::Decision decision = sim.Simulate(*request);
  const std::string rule = DescribeRule(decision, *inputs, resources, request->port);

  if (format == "json") {
    out << DecisionToJson(*request, decision, rule);
    return exit_code;
  }
  std::string text = simulator::Explain(*request, decision);
  if (!rule.empty()) {
    size_t at = text.find("VirtualService:");
    if (at != std::string::npos) {
      size_t eol = text.find('\n', at);
      text.insert(eol, ", " + rule);
    }
  }
  out << "Proxy:           " << inputs->proxy.id << "\n" << text;
  return exit_code;
}

}  // namespace cmesh::cli
