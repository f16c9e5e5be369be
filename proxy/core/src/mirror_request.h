// Request mirroring (the route's request_mirror_policies, Istio's VirtualService `mirror`):
// a fire-and-forget copy of a request to another cluster. The copy carries the same head, with
// the authority suffixed "-shadow" as Envoy does, and the whole body (mirrored only when the
// body fitted the retry buffer, as Envoy's shadowing needs the body buffered). Its answer is
// read to the end (so the connection can be kept alive) and thrown away; its failure, slowness
// or absence never reaches the main exchange, which neither waits for it nor shares anything
// with it but the worker's loop and pools.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "cmesh/event/event_loop.h"
#include "cmesh/event/random.h"
#include "cmesh/proxy_core/worker.h"

namespace cmesh::proxy_core {

// "reviews:9080" → "reviews-shadow:9080", "reviews" → "reviews-shadow", "[::1]:80" →
// "[::1]-shadow:80" (the suffix goes before the port, as current Envoy does).
std::string ShadowHost(std::string_view authority);

// Starts the copy `request` (a complete HTTP/1.1 request: head and body) of a `method` request
// on `state`'s cluster; it lives on its own and deletes itself when the answer was read, when
// it failed, or after `timeout` (0: the copy's own 15 s cap, so a mute mirror cannot hold a
// connection forever). False when nothing was sent: no endpoint, or the mirror cluster's
// max_requests reached.
bool StartMirror(Worker& worker, std::shared_ptr<Worker::ClusterState> state, std::string method, std::string request,
                 std::chrono::milliseconds timeout);

}  // namespace cmesh::proxy_core
