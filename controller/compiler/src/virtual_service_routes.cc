#include "virtual_service_routes.h"

#include <algorithm>
#include <deque>

#include "cluster_names.h"
#include "delegate_merge.h"
#include "host_names.h"
#include "route_policies.h"
#include "traffic_policy.h"

namespace cmesh::compiler {
namespace {

using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteAction;

// An empty StringMatch means "present", as Istio reads it.
void AddHeaderMatcher(const std::string& name, const model::StringMatch& m, bool invert,
                      envoy::config::route::v3::RouteMatch* match) {
  HeaderMatcher* h = match->add_headers();
  h->set_name(name);
  if (m.kind == model::StringMatch::Kind::kAny) {
    h->set_present_match(true);
  } else {
    SetStringMatcher(m, h->mutable_string_match());
  }
  if (invert) h->set_invert_match(true);
}

// Compile-time conditions: whether this match can ever apply to a request from this proxy.
bool MatchApplies(const model::HTTPMatchRequest& m, const ProxyView& view, uint32_t listener_port) {
  if (m.port && *m.port != listener_port) return false;
  if (!m.source_labels.empty() && !LabelsContain(view.labels(), m.source_labels)) return false;
  if (!m.source_namespace.empty() && m.source_namespace != view.proxy().ns) return false;
  if (!m.gateways.empty() && std::find(m.gateways.begin(), m.gateways.end(), "mesh") == m.gateways.end()) {
    return false;
  }
  return true;
}

void TranslateMatch(const model::HTTPMatchRequest* m, envoy::config::route::v3::RouteMatch* out) {
  if (m == nullptr || !m->uri) {
    out->set_prefix("/");
  } else {
    switch (m->uri->kind) {
      case model::StringMatch::Kind::kExact:
        out->set_path(m->uri->value);
        break;
      case model::StringMatch::Kind::kPrefix:
        out->set_prefix(m->uri->value);
        break;
      case model::StringMatch::Kind::kRegex:
        out->mutable_safe_regex()->set_regex(m->uri->value);
        break;
      case model::StringMatch::Kind::kAny:
        out->set_prefix("/");
        break;
    }
  }
  if (m == nullptr) return;
  if (m->ignore_uri_case) out->mutable_case_sensitive()->set_value(false);
  for (const auto& [name, sm] : m->headers) AddHeaderMatcher(name, sm, false, out);
  if (m->authority) AddHeaderMatcher(":authority", *m->authority, false, out);
  if (m->method) AddHeaderMatcher(":method", *m->method, false, out);
  if (m->scheme) AddHeaderMatcher(":scheme", *m->scheme, false, out);
  for (const auto& [name, sm] : m->without_headers) AddHeaderMatcher(name, sm, true, out);
  for (const auto& [name, sm] : m->query_params) {
    auto* q = out->add_query_parameters();
    q->set_name(name);
    if (sm.kind == model::StringMatch::Kind::kAny) {
      q->set_present_match(true);
    } else {
      SetStringMatcher(sm, q->mutable_string_match());
    }
  }
}

// Istio's isCatchAllMatch: only a uri prefix "/" (or regex "*") with no other condition at all
// ends the route list; a match on sourceLabels or port alone does not, even though it compiles
// to a match-everything route for the proxies it applies to.
bool IsCatchAll(const model::HTTPMatchRequest& m) {
  bool catch_all = false;
  if (m.uri) {
    if (m.uri->kind == model::StringMatch::Kind::kPrefix) catch_all = m.uri->value == "/";
    if (m.uri->kind == model::StringMatch::Kind::kRegex) catch_all = m.uri->value == "*";
  }
  return catch_all && m.headers.empty() && m.query_params.empty() && m.source_labels.empty() &&
         m.without_headers.empty() && m.gateways.empty() && !m.method && !m.scheme && !m.port && !m.authority &&
         m.source_namespace.empty();
}

void SetMirror(const model::Destination& destination, std::optional<double> percentage, const std::string& vs_ns,
               const ProxyView& view, uint32_t listener_port, RouteAction* action) {
  ResolvedDestination d = ResolveDestination(destination, vs_ns, view, listener_port);
  auto* policy = action->add_request_mirror_policies();
  policy->set_cluster(OutboundClusterName(d.port, destination.subset, d.fqdn));
  // Istio mirrors 100% of requests when no percentage is given.
  auto* fraction = policy->mutable_runtime_fraction()->mutable_default_value();
  fraction->set_numerator(static_cast<uint32_t>(percentage.value_or(100.0) * 10000.0 + 0.5));
  fraction->set_denominator(envoy::type::v3::FractionalPercent::MILLION);
}

// Fills the route action: destinations (weight-0 ones dropped, raw weights kept), rewrite,
// timeout, retries, mirrors, hash policy. Returns false when no destination is left.
bool BuildRouteAction(const model::HTTPRoute& rule, const std::string& ns, const ProxyView& view,
                      uint32_t listener_port, Route* route) {
  std::vector<const model::HTTPRouteDestination*> kept;
  for (const auto& d : rule.route) {
    int32_t weight = d.weight.value_or(rule.route.size() == 1 ? 100 : 0);
    if (weight > 0) kept.push_back(&d);
  }
  if (kept.empty()) return false;
  RouteAction* action = route->mutable_route();
  std::vector<RouteAction::HashPolicy> hash;
  if (kept.size() == 1) {
    ResolvedDestination d = ResolveDestination(kept[0]->destination, ns, view, listener_port);
    action->set_cluster(d.cluster);
    // A single destination's header operations belong to the route itself.
    AddRequestHeaders(kept[0]->headers.request, route->mutable_request_headers_to_add(),
                      route->mutable_request_headers_to_remove());
    AddRequestHeaders(kept[0]->headers.response, route->mutable_response_headers_to_add(),
                      route->mutable_response_headers_to_remove());
    hash = HashPolicyForDestination(d, kept[0]->destination.subset, view);
  } else {
    auto* weighted = action->mutable_weighted_clusters();
    for (const auto* dst : kept) {
      ResolvedDestination d = ResolveDestination(dst->destination, ns, view, listener_port);
      auto* c = weighted->add_clusters();
      c->set_name(d.cluster);
      c->mutable_weight()->set_value(static_cast<uint32_t>(*dst->weight));
      AddRequestHeaders(dst->headers.request, c->mutable_request_headers_to_add(),
                        c->mutable_request_headers_to_remove());
      AddRequestHeaders(dst->headers.response, c->mutable_response_headers_to_add(),
                        c->mutable_response_headers_to_remove());
      // Envoy hashes per route, not per cluster: the first destination with a consistent hash
      // decides, as one policy must serve all of them.
      if (hash.empty()) hash = HashPolicyForDestination(d, dst->destination.subset, view);
    }
  }
  for (auto& h : hash) *action->add_hash_policy() = std::move(h);
  if (rule.rewrite) {
    if (!rule.rewrite->uri.empty()) action->set_prefix_rewrite(rule.rewrite->uri);
    if (rule.rewrite->uri_regex_rewrite) {
      auto* rr = action->mutable_regex_rewrite();
      rr->mutable_pattern()->set_regex(rule.rewrite->uri_regex_rewrite->match);
      rr->set_substitution(rule.rewrite->uri_regex_rewrite->rewrite);
    }
    if (!rule.rewrite->authority.empty()) action->set_host_rewrite_literal(rule.rewrite->authority);
  }
  SetRouteTimeout(rule.timeout, action);
  if (auto retry = RetryPolicyFor(rule.retries)) *action->mutable_retry_policy() = std::move(*retry);
  if (rule.mirror) SetMirror(*rule.mirror, rule.mirror_percentage, ns, view, listener_port, action);
  for (const auto& m : rule.mirrors) SetMirror(m.destination, m.percentage, ns, view, listener_port, action);
  return true;
}

// One http rule to translate: a rule of the VirtualService itself, or a root rule merged with a
// rule of its delegate, whose destinations are short names in the delegate's namespace.
struct EffectiveRule {
  const model::HTTPRoute* rule;
  const std::string* ns;  // the namespace short destination hosts resolve in
  std::string context;    // for warnings
};

// Istio's mergeVirtualServicesIfNeeded for one root rule: the delegate VirtualService (in the
// root's namespace unless named otherwise) must exist, have no hosts and be exported to the
// root's namespace; each of its http rules merges with the root rule (delegate_merge.h).
// Anything else drops the root rule, as Istio does, with a warning saying why.
void ExpandDelegate(const model::VirtualService& root, const model::HTTPRoute& rule, const std::string& context,
                    const ProxyView& view, std::deque<model::HTTPRoute>* merged, std::vector<EffectiveRule>* out,
                    std::vector<std::string>* warnings) {
  const model::Delegate& d = *rule.delegate;
  const std::string target_name = (d.ns.empty() ? root.meta.ns : d.ns) + "/" + d.name;
  const IndexedVirtualService* target = view.index().FindDelegate(d, root.meta.ns);
  if (target == nullptr) {
    warnings->push_back(context + ": delegate VirtualService " + target_name + " does not exist (or does not apply to sidecars); the rule is ignored");
    return;
  }
  const model::VirtualService& delegate = *target->vs;
  if (!delegate.hosts.empty()) {
    warnings->push_back(context + ": VirtualService " + target_name +
                        " has hosts, so it is not a delegate; the rule is ignored");
    return;
  }
  if (!VisibleTo(delegate.export_to, delegate.meta.ns, root.meta.ns)) {
    warnings->push_back(context + ": delegate VirtualService " + target_name + " is not exported to namespace " +
                        root.meta.ns + "; the rule is ignored");
    return;
  }
  for (size_t j = 0; j < delegate.http.size(); ++j) {
    std::string inner = context + " (delegate " + target_name + " http[" + std::to_string(j) + "])";
    if (delegate.http[j].delegate) {
      warnings->push_back(inner + ": a delegate cannot delegate again; the rule is ignored");
      continue;
    }
    auto rule_merged = MergeDelegateRoute(rule, delegate.http[j]);
    if (!rule_merged) {
      warnings->push_back(inner + ": its matches conflict with the root rule's matches; the rule is ignored");
      continue;
    }
    merged->push_back(std::move(*rule_merged));
    out->push_back(EffectiveRule{&merged->back(), &delegate.meta.ns, std::move(inner)});
  }
}

}  // namespace

ResolvedDestination ResolveDestination(const model::Destination& destination, const std::string& vs_namespace,
                                       const ProxyView& view, uint32_t listener_port) {
  ResolvedDestination out;
  out.fqdn = ResolveHost(destination.host, vs_namespace, view.options().domain_suffix);
  out.service = view.FindService(out.fqdn);
  if (destination.port) {
    out.port = *destination.port;
  } else if (out.service != nullptr && out.service->ports.size() == 1) {
    out.port = out.service->ports[0].port->port;
  } else {
    out.port = listener_port;
  }
  out.cluster = OutboundClusterName(out.port, destination.subset, out.fqdn);
  return out;
}

std::vector<RouteAction::HashPolicy> HashPolicyForDestination(const ResolvedDestination& destination,
                                                              const std::string& subset, const ProxyView& view) {
  const std::string ns = destination.service ? destination.service->service->meta.ns : std::string();
  const SelectedRule& rule = view.RuleForHost(destination.fqdn, ns);
  if (rule.rule == nullptr) return {};
  const model::Subset* s = nullptr;
  for (const auto& candidate : rule.rule->subsets) {
    if (candidate.name == subset) s = &candidate;
  }
  return HashPolicyFor(ResolvePolicy(rule.rule, s, destination.port));
}

void SetConfigMetadata(const model::ObjectMeta& meta, Route* route) {
  auto& fields = *(*route->mutable_metadata()->mutable_filter_metadata())["istio"].mutable_fields();
  fields["config"].set_string_value("/apis/networking.istio.io/v1/namespaces/" + meta.ns + "/virtual-service/" +
                                    meta.name);
}

std::vector<Route> BuildVirtualServiceRoutes(const IndexedVirtualService& ivs, const ProxyView& view,
                                             uint32_t listener_port, std::vector<std::string>* warnings) {
  const model::VirtualService& vs = *ivs.vs;
  std::vector<Route> routes;
  // Delegates expanded in place (Istio merges them into the root before translating it).
  std::deque<model::HTTPRoute> merged;
  std::vector<EffectiveRule> rules;
  for (size_t i = 0; i < vs.http.size(); ++i) {
    std::string context = "VirtualService " + vs.meta.ns + "/" + vs.meta.name + " http[" + std::to_string(i) + "]";
    if (vs.http[i].delegate) {
      ExpandDelegate(vs, vs.http[i], context, view, &merged, &rules, warnings);
    } else {
      rules.push_back(EffectiveRule{&vs.http[i], &vs.meta.ns, std::move(context)});
    }
  }
  for (const EffectiveRule& effective : rules) {
    const model::HTTPRoute& rule = *effective.rule;
    const std::string& context = effective.context;
    std::vector<const model::HTTPMatchRequest*> matches;
    if (rule.match.empty()) {
      matches.push_back(nullptr);
    } else {
      for (const auto& m : rule.match) {
        if (MatchApplies(m, view, listener_port)) matches.push_back(&m);
      }
      if (matches.empty()) continue;  // no match can apply to this proxy/port: the rule drops
    }
    bool catch_all = false;
    for (const auto* m : matches) {
      Route route;
      std::string name = rule.name;
      if (m != nullptr && !m->name.empty()) name += "." + m->name;
      route.set_name(name);
      TranslateMatch(m, route.mutable_match());
      if (rule.redirect) {
        SetRedirect(*rule.redirect, listener_port, &route, context, warnings);
      } else if (rule.direct_response) {
        SetDirectResponse(*rule.direct_response, &route);
      } else if (!BuildRouteAction(rule, *effective.ns, view, listener_port, &route)) {
        warnings->push_back(context + ": no destination with a positive weight; the rule is ignored");
        break;
      }
      AddRequestHeaders(rule.headers.request, route.mutable_request_headers_to_add(),
                        route.mutable_request_headers_to_remove());
      AddRequestHeaders(rule.headers.response, route.mutable_response_headers_to_add(),
                        route.mutable_response_headers_to_remove());
      if (rule.fault) SetFault(*rule.fault, &route);
      if (rule.cors_policy) SetCors(*rule.cors_policy, &route);
      SetConfigMetadata(vs.meta, &route);
      if (m == nullptr || IsCatchAll(*m)) catch_all = true;
      routes.push_back(std::move(route));
      if (catch_all) break;
    }
    // Istio stops at a catch-all route: later rules could never be reached.
    if (catch_all) break;
  }
  return routes;
}

}  // namespace cmesh::compiler
