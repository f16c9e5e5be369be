// Which addresses back a Service port: from its EndpointSlices, else its v1 Endpoints, else (file
// mode has no EndpointSlice controller) from the Running Pods that have an IP and match its
// selector, the way the EndpointSlice controller would build them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cmesh/model/config_set.h"

namespace cmesh::model {

struct ResolvedEndpoint {
  std::string address;
  uint32_t port = 0;   // the target port number on the endpoint
  Labels labels;       // the backing pod's labels (subset membership always uses these)
  std::string zone;    // topology zone when known, else ""
  bool ready = true;
  friend bool operator==(const ResolvedEndpoint&, const ResolvedEndpoint&) = default;
};

// An index built once per ConfigSet so that resolving all services stays linear in the size of the
// mesh. It keeps a reference to `config`, which must outlive it.
class EndpointIndex {
 public:
  explicit EndpointIndex(const ConfigSet& config);
  ~EndpointIndex();
  EndpointIndex(const EndpointIndex&) = delete;
  EndpointIndex& operator=(const EndpointIndex&) = delete;

  // Endpoints of `service`'s port `port`, sorted by address then port. Pods that are Pending,
  // Failed, Succeeded or without an IP are never included; not-ready endpoints come back with
  // ready=false.
  std::vector<ResolvedEndpoint> Resolve(const Service& service, const ServicePort& port) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cmesh::model
