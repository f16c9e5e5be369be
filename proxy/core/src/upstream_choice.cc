#include "upstream_choice.h"

#include <algorithm>
#include <cstdio>

#include "request_fields.h"

namespace cmesh::proxy_core {

std::optional<std::uint64_t> RequestHash(std::span<const router::HashPolicy> policies, const HashInputs& in,
                                         std::vector<http1::OwnedHeader>* set_cookies) {
  std::optional<std::uint64_t> hash;
  for (const router::HashPolicy& policy : policies) {
    std::optional<std::string> key;
    switch (policy.kind) {
      case router::HashPolicy::Kind::kHeader: {
        std::string joined;
        if (policy.name == ":authority") {
          joined = in.authority;
        } else if (policy.name == ":path") {
          joined = in.path;
        } else {
          for (const auto& h : in.headers) {
            if (!http1::EqualsIgnoreCase(h.name, policy.name)) continue;
            if (!joined.empty()) joined += ',';
            joined += h.value;
          }
        }
        if (!joined.empty()) key = std::move(joined);
        break;
      }
      case router::HashPolicy::Kind::kSourceIp:
        key = in.peer.address;
        break;
      case router::HashPolicy::Kind::kQueryParameter:
        key = QueryParameter(in.path, policy.name);
        break;
      case router::HashPolicy::Kind::kCookie:
        key = Cookie(in.headers, policy.name);
        if (!key && policy.cookie_ttl && set_cookies) {
          // Envoy's generated cookie: a value derived from the client's address, hashed like a
          // cookie the client sends, and set on the answer so the next request carries it.
          char value[17];
          std::snprintf(value, sizeof value, "%016llx",
                        static_cast<unsigned long long>(upstream::HashKey(in.peer.ToString())));
          key = value;
          std::string cookie = policy.name + "=\"" + *key + "\"; Max-Age=" + std::to_string(policy.cookie_ttl->count());
          if (!policy.cookie_path.empty()) cookie += "; Path=" + policy.cookie_path;
          set_cookies->push_back({"set-cookie", cookie + "; HttpOnly"});
        }
        break;
    }
    if (key) {
      const std::uint64_t value = upstream::HashKey(*key);
      hash = hash ? (((*hash << 1) | (*hash >> 63)) ^ value) : value;
    }
    if (policy.terminal && hash) break;
  }
  return hash;
}

ClusterChoice ChooseCluster(Worker& worker, const ConfigSnapshot& config, const router::Decision& decision,
                            const DownstreamContext& context) {
  ClusterChoice out;
  auto found = config.clusters.find(decision.cluster);
  if (found == config.clusters.end()) {
    out.status = static_cast<int>(decision.cluster_not_found_status);
    out.flags = "NC";
    out.detail = "cluster " + std::string(decision.cluster) + " not found";
    return out;
  }
  out.cluster = found->second;  // named in the record even when no host can serve
  if (found->second->type == upstream::DiscoveryType::kOriginalDst) {
    // Passthrough: where the client was going. A connection that was not redirected has the
    // proxy itself as its destination.
    if (!context.redirected) {
      out.status = 503;
      out.flags = "UH";
      out.detail = "no original destination: the connection was not redirected";
      return out;
    }
    out.state = worker.OriginalDstStateFor(found->second, context.original_destination);
    out.cluster = out.state->info;
    return out;
  }
  if (found->second->hosts.empty()) {
    out.status = 503;
    out.flags = "UH";
    out.detail = "no healthy upstream";
    return out;
  }
  out.state = worker.StateFor(out.cluster);
  return out;
}

std::chrono::milliseconds EffectiveRouteTimeout(const router::Decision& decision) {
  std::chrono::milliseconds timeout = decision.timeout;
  if (decision.max_stream_duration.count() > 0 && (timeout.count() == 0 || decision.max_stream_duration < timeout)) {
    timeout = decision.max_stream_duration;
  }
  return timeout;
}

std::optional<std::size_t> PickHost(Worker::ClusterState& state, const upstream::ClusterInfo& cluster,
                                    event::Random& random, const std::uint64_t* hash,
                                    const router::RetryPolicy* retry, const std::vector<std::size_t>& tried) {
  const auto health = std::span<const std::shared_ptr<upstream::HostHealth>>(state.health);
  auto pick = state.balancer.Pick(cluster, random, hash, health);
  if (!pick || !retry || !retry->previous_hosts || tried.empty()) return pick;
  for (std::uint32_t i = 0;
       i < retry->host_selection_max_attempts && std::find(tried.begin(), tried.end(), *pick) != tried.end(); ++i) {
    pick = state.balancer.Pick(cluster, random, nullptr, health);
    if (!pick) return pick;
  }
  return pick;
}

}  // namespace cmesh::proxy_core
