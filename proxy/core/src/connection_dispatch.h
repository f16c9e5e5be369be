// What happens to a connection a worker accepted: the filter chain for its original destination
// is chosen from the configuration, and the chain's handler takes the socket: the HTTP/1.1
// connection manager (which hands HTTP/2 prior-knowledge clients on to the HTTP/2 one), or the
// TCP proxy. When the chosen listener has both an HTTP chain and another one for the
// destination (a port declared without a protocol), the first bytes decide, as Envoy's
// http_inspector does: the HTTP/2 preface or an HTTP/1.x request line is HTTP, anything else
// (or nothing within the listener's timeout, when it says to continue) is not.
#pragma once

#include <string>

#include "cmesh/proxy_core/listener_table.h"
#include "cmesh/proxy_core/worker.h"
#include "downstream_context.h"

namespace cmesh::proxy_core {

// Starts the handler of `action` for `fd` (taken; closed on failure).
void StartChain(Worker& worker, int fd, DownstreamContext context, const ChainAction& action, std::string already_read);

// Routes a freshly accepted connection (taken; closed when nothing serves it).
void DispatchAccepted(Worker& worker, int fd, DownstreamContext context, const event::Endpoint& local);

enum class Sniffed { kNeedMore, kHttp, kOther };
// What the first bytes of a connection say: HTTP (the HTTP/2 preface, or an HTTP/1.x request
// line), something else, or not enough bytes yet.
Sniffed SniffProtocol(std::string_view first_bytes);

}  // namespace cmesh::proxy_core
