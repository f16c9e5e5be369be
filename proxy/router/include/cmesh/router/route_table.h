// The compiled form of an Envoy v3 RouteConfiguration (RDS). Build once per configuration, share
// the immutable table between workers, Decide per request: no protobuf, no locks, no exceptions,
// no regex compilation on the request path.
#pragma once

#include <memory>
#include <string>

#include "cmesh/router/decision.h"
#include "cmesh/router/random.h"
#include "cmesh/router/request_view.h"

namespace envoy::config::route::v3 {
class RouteConfiguration;
}

namespace cmesh::router {

struct CompiledTable;  // private (src/compiled_table.h)

class RouteTable {
 public:
  // nullptr and `*error` set when the configuration cannot be honoured: invalid (a bad regex, a
  // weighted_clusters total of 0, a duplicate domain, ...) or using a field cmesh-proxy does not
  // implement where it would change routing. The error names the virtual host, the route and the
  // field; the caller NACKs with it and keeps its previous table.
  static std::shared_ptr<const RouteTable> Build(
      const envoy::config::route::v3::RouteConfiguration& config, std::string* error);

  // Matches the request (virtual host by authority, first matching route) and draws the weighted
  // cluster and the faults from `random`.
  Decision Decide(const RequestView& request, Random& random) const;

  const std::string& name() const;

  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

 private:
  explicit RouteTable(std::unique_ptr<CompiledTable> table);
  std::unique_ptr<CompiledTable> table_;
};

}  // namespace cmesh::router
