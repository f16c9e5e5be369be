#include "cmesh/simulator/decision.h"

namespace cmesh::simulator {

uint32_t Decision::LocalStatus() const {
  switch (outcome) {
    case Outcome::kRedirect:
      return redirect_code;
    case Outcome::kDirectResponse:
      return direct_status;
    case Outcome::kNoVirtualHost:
    case Outcome::kNoRoute:
      return 404;
    case Outcome::kCluster:
      return missing_clusters.empty() ? 0 : 503;
    default:
      return 0;
  }
}

const char* OutcomeName(Decision::Outcome outcome) {
  switch (outcome) {
    case Decision::Outcome::kCluster:
      return "cluster";
    case Decision::Outcome::kWeightedClusters:
      return "weighted_clusters";
    case Decision::Outcome::kRedirect:
      return "redirect";
    case Decision::Outcome::kDirectResponse:
      return "direct_response";
    case Decision::Outcome::kNoVirtualHost:
      return "no_virtual_host";
    case Decision::Outcome::kNoRoute:
      return "no_route";
    case Decision::Outcome::kTcpProxy:
      return "tcp_proxy";
    case Decision::Outcome::kNoFilterChain:
      return "no_filter_chain";
    case Decision::Outcome::kNoListener:
      return "no_listener";
  }
  return "unknown";
}

}  // namespace cmesh::simulator
