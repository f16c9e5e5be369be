#include "cmesh/router/route_table.h"

#include "compiled_table.h"
#include "envoy/config/route/v3/route.pb.h"
#include "field_check.h"
#include "header_ops.h"
#include "route_compiler.h"

namespace cmesh::router {
namespace {

using envoy::config::route::v3::RouteConfiguration;
using envoy::config::route::v3::VirtualHost;

bool CompileVirtualHost(const VirtualHost& vh, int index, OuterLevels outer,
                        CompiledTable& table, std::string* error) {
  const std::string at = "virtual host \"" + vh.name() + "\"";
  // virtual_clusters and metadata feed stats only; per_request_buffer_limit_bytes bounds buffering.
  if (!OnlyFields(vh,
                  {"name", "domains", "routes", "request_headers_to_add",
                   "request_headers_to_remove", "response_headers_to_add",
                   "response_headers_to_remove", "typed_per_filter_config", "retry_policy",
                   "metadata", "include_request_attempt_count",
                   "include_attempt_count_in_response", "virtual_clusters",
                   "per_request_buffer_limit_bytes", "request_mirror_policies"},
                  at, error)) {
    return false;
  }
  if (vh.name().empty()) {
    *error = "virtual host #" + std::to_string(index) + ": a virtual host needs a name";
    return false;
  }
  if (vh.domains().empty()) {
    *error = at + ": no domains";
    return false;
  }
  for (const auto& domain : vh.domains()) {
    if (!table.index.Add(domain, index, at, error)) return false;
  }
  std::vector<HeaderOp> request_ops, response_ops;
  std::vector<MirrorPolicy> mirrors;
  if (!CompileHeaderOps(vh.request_headers_to_add(), vh.request_headers_to_remove(),
                        at + " request headers", request_ops, error) ||
      !CompileHeaderOps(vh.response_headers_to_add(), vh.response_headers_to_remove(),
                        at + " response headers", response_ops, error) ||
      !CompilePerFilterConfig(vh.typed_per_filter_config(), at, &outer.vhost_fault, &outer.vhost_cors, error) ||
      !CompileMirrorPolicies(vh.request_mirror_policies(), at, &mirrors, error)) {
    return false;
  }
  if (vh.has_retry_policy() &&
      !CompileRetryPolicy(vh.retry_policy(), at + ".retry_policy", &outer.vhost_retry, error)) {
    return false;
  }
  outer.vhost_request_ops = &request_ops;
  outer.vhost_response_ops = &response_ops;
  if (!mirrors.empty()) outer.outer_mirrors = &mirrors;
  CompiledVirtualHost& out = table.virtual_hosts.emplace_back();
  out.name = vh.name();
  out.include_request_attempt_count = vh.include_request_attempt_count();
  out.include_attempt_count_in_response = vh.include_attempt_count_in_response();
  out.routes.reserve(vh.routes_size());
  for (int i = 0; i < vh.routes_size(); ++i) {
    const std::string where = at + " route #" + std::to_string(i);
    if (!CompileRoute(vh.routes(i), outer, where, &out.routes.emplace_back(), error)) return false;
  }
  return true;
}

// Envoy's weighted pick: a value below the total, then the cluster whose range holds it.
std::size_t PickTarget(const CompiledRoute& route, Random& random) {
  if (route.targets.size() == 1) return 0;
  std::uint64_t value = random.Next() % route.total_weight;
  for (std::size_t i = 0; i < route.targets.size(); ++i) {
    if (value < route.targets[i].weight) return i;
    value -= route.targets[i].weight;
  }
  return route.targets.size() - 1;  // unreachable: the weights sum to total_weight
}

std::string RewritePath(const CompiledRoute& route, std::string_view full, std::size_t matched) {
  if (!route.prefix_rewrite.empty()) {
    std::string out(route.prefix_rewrite);
    out.append(full.substr(std::min(matched, full.size())));
    return out;
  }
  if (route.regex_rewrite) {
    const std::string_view path = PathWithoutQuery(full);
    std::string out(path);
    RE2::GlobalReplace(&out, *route.regex_rewrite, route.regex_substitution);
    out.append(full.substr(path.size()));
    return out;
  }
  return {};
}

}  // namespace

RouteTable::RouteTable(std::unique_ptr<CompiledTable> table) : table_(std::move(table)) {}
RouteTable::~RouteTable() = default;

const std::string& RouteTable::name() const { return table_->name; }

std::shared_ptr<const RouteTable> RouteTable::Build(const RouteConfiguration& config,
                                                    std::string* error) {
  const std::string at = "route configuration \"" + config.name() + "\"";
  // validate_clusters asks the control plane's view of CDS to be checked; an unknown cluster is
  // answered at request time with cluster_not_found_status instead.
  if (!OnlyFields(config,
                  {"name", "virtual_hosts", "request_headers_to_add", "request_headers_to_remove",
                   "response_headers_to_add", "response_headers_to_remove", "validate_clusters",
                   "most_specific_header_mutations_wins", "ignore_port_in_host_matching",
                   "max_direct_response_body_size_bytes", "metadata", "typed_per_filter_config",
                   "request_mirror_policies"},
                  at, error)) {
    return nullptr;
  }
  auto table = std::make_unique<CompiledTable>();
  table->name = config.name();
  table->ignore_port_in_host_matching = config.ignore_port_in_host_matching();
  OuterLevels outer;
  std::vector<HeaderOp> request_ops, response_ops;
  std::vector<MirrorPolicy> mirrors;
  if (!CompileHeaderOps(config.request_headers_to_add(), config.request_headers_to_remove(),
                        at + " request headers", request_ops, error) ||
      !CompileHeaderOps(config.response_headers_to_add(), config.response_headers_to_remove(),
                        at + " response headers", response_ops, error) ||
      !CompilePerFilterConfig(config.typed_per_filter_config(), at, &outer.config_fault, &outer.config_cors,
                              error) ||
      !CompileMirrorPolicies(config.request_mirror_policies(), at, &mirrors, error)) {
    return nullptr;
  }
  outer.config_request_ops = &request_ops;
  outer.config_response_ops = &response_ops;
  outer.most_specific_header_mutations_wins = config.most_specific_header_mutations_wins();
  if (!mirrors.empty()) outer.outer_mirrors = &mirrors;
  if (config.has_max_direct_response_body_size_bytes()) {
    outer.max_direct_response_body_bytes = config.max_direct_response_body_size_bytes().value();
  }
  table->virtual_hosts.reserve(config.virtual_hosts_size());
  for (int i = 0; i < config.virtual_hosts_size(); ++i) {
    if (!CompileVirtualHost(config.virtual_hosts(i), i, outer, *table, error)) {
      *error = at + ": " + *error;
      return nullptr;
    }
  }
  return std::shared_ptr<const RouteTable>(new RouteTable(std::move(table)));
}

Decision RouteTable::Decide(const RequestView& request, Random& random) const {
  Decision d;
  const int index = table_->index.Find(request.authority, table_->ignore_port_in_host_matching);
  if (index < 0) return d;
  const CompiledVirtualHost& vh = table_->virtual_hosts[static_cast<std::size_t>(index)];
  d.virtual_host = vh.name;
  for (std::size_t i = 0; i < vh.routes.size(); ++i) {
    const CompiledRoute& route = vh.routes[i];
    std::size_t matched = 0;
    if (!route.match.Match(request, &matched)) continue;
    d.kind = route.kind;
    d.route_name = route.name;
    d.route_index = static_cast<int>(i);
    const FaultPolicy* fault = route.fault.get();
    d.cors = route.cors.get();
    d.request_header_ops = route.request_ops;
    d.response_header_ops = route.response_ops;
    switch (route.kind) {
      case Decision::Kind::kCluster: {
        const Target& target = route.targets[PickTarget(route, random)];
        d.status = 0;
        d.cluster = target.cluster;
        d.host_rewrite = target.host_rewrite;
        d.request_header_ops = target.request_ops;
        d.response_header_ops = target.response_ops;
        fault = target.fault.get();
        d.path_rewrite = RewritePath(route, request.path, matched);
        d.cluster_not_found_status = route.cluster_not_found_status;
        d.timeout = route.timeout;
        d.idle_timeout = route.idle_timeout;
        d.max_stream_duration = route.max_stream_duration;
        d.retry = route.retry.get();
        d.hash_policies = route.hash_policies;
        d.mirrors = route.mirrors;
        d.include_request_attempt_count = vh.include_request_attempt_count;
        d.include_attempt_count_in_response = vh.include_attempt_count_in_response;
        break;
      }
      case Decision::Kind::kRedirect:
        d.status = route.status;
        d.location = RedirectLocation(route.redirect, request, matched);
        break;
      case Decision::Kind::kDirectResponse:
        d.status = route.status;
        d.body = route.body;
        break;
      case Decision::Kind::kNoRoute:
        break;
    }
    if (fault) fault->Draw(request, random, d);
    return d;
  }
  return d;
}

}  // namespace cmesh::router
