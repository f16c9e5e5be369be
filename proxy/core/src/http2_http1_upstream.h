// An HTTP/2 stream's attempt over HTTP/1.1: for clusters that do not ask for HTTP/2, the
// request goes up on a connection of the worker's HTTP/1.1 pool for the endpoint (the same
// pools the HTTP/1.1 connection manager uses), its body re-framed (Content-Length when the
// client declared one, else chunked), and the response comes back as HTTP/2 headers and data.
// Trailers do not cross to HTTP/1.1 (they are dropped; the body still ends).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/http1/encoder.h"
#include "cmesh/proxy_core/worker.h"
#include "http2_upstream.h"

namespace cmesh::proxy_core {

struct Http1UpstreamHead {
  std::string method;
  std::string path;
  std::vector<http1::OwnedHeader> headers;  // end-to-end headers, Host included
  std::optional<std::uint64_t> content_length;  // the client's declared body length, if any
  bool end_stream = false;                      // no body at all
};

std::unique_ptr<Http2UpstreamRequest> StartHttp1Upstream(Worker& worker, std::shared_ptr<Worker::ClusterState> state,
                                                         std::size_t host_index, Http1UpstreamHead head,
                                                         Http2UpstreamHandler* handler);

}  // namespace cmesh::proxy_core
