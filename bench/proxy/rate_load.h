// A fixed-rate (open-loop) HTTP/1.1 load: request k is due at start + k / rate whatever happened
// before it, and its latency is measured from that intended time, not from when a connection was
// free to send it. A server that stalls therefore shows its stall in every request that queued
// behind it (no coordinated omission, the flaw of closed-loop tools like wrk's latency figures).
//
// One thread, one epoll loop, `connections` keep-alive connections with at most one request in
// flight each (no pipelining); due requests wait in a queue for a free connection.
#ifndef CMESH_BENCH_PROXY_RATE_LOAD_H_
#define CMESH_BENCH_PROXY_RATE_LOAD_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cmesh::bench {

struct RateLoadOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::string host;  // the Host header (it decides the route at the proxies)
  std::string path = "/";
  double rate = 1000;  // requests per second, all connections together
  int connections = 8;
  std::chrono::nanoseconds warmup = std::chrono::seconds(1);  // sent, not recorded
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  std::chrono::nanoseconds drain = std::chrono::seconds(5);  // wait for the last answers at most this
};

struct RateLoadResult {
  std::uint64_t scheduled = 0;  // requests due during warmup + duration
  std::uint64_t completed = 0;  // answered (any status)
  std::uint64_t non_2xx = 0;
  std::uint64_t errors = 0;      // connection failures, resets, unreadable answers, unanswered
  std::uint64_t reconnects = 0;  // connections replaced (after an error or a "Connection: close")
  std::size_t max_queue = 0;     // most requests ever waiting for a free connection
  std::vector<std::int64_t> latencies_ns;  // answered requests due after the warmup, from their due time
  double measured_seconds = 0;   // the recorded window
  std::string fatal;             // set when the load could not run at all
};

RateLoadResult RunRateLoad(const RateLoadOptions& options);

}  // namespace cmesh::bench

#endif  // CMESH_BENCH_PROXY_RATE_LOAD_H_
