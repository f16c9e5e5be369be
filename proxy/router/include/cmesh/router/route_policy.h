// The per-route settings a decision points at: retries, percentages, mirrors. Owned by the
// RouteTable; a Decision refers to them while the caller holds the table.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cmesh/router/random.h"

namespace cmesh::router {

// An Envoy FractionalPercent: numerator out of 100, 10,000 or 1,000,000.
struct Fraction {
  std::uint32_t numerator = 0;
  std::uint32_t denominator = 100;
  // Envoy's draw: random % denominator < numerator (a numerator above the denominator is 100 %).
  bool Sample(Random& random) const { return random.Next() % denominator < numerator; }
};

// retry_on conditions (Envoy's names). Only some apply to HTTP/1.1 (see RetryPolicy).
enum RetryOn : std::uint32_t {
  kRetryOn5xx = 1u << 0,                   // "5xx"
  kRetryOnGatewayError = 1u << 1,          // "gateway-error": 502, 503, 504
  kRetryOnReset = 1u << 2,                 // "reset"
  kRetryOnResetBeforeRequest = 1u << 3,    // "reset-before-request"
  kRetryOnConnectFailure = 1u << 4,        // "connect-failure"
  kRetryOnRetriable4xx = 1u << 5,          // "retriable-4xx": 409
  kRetryOnRefusedStream = 1u << 6,         // "refused-stream" (HTTP/2 only)
  kRetryOnRetriableStatusCodes = 1u << 7,  // "retriable-status-codes"
  kRetryOnEnvoyRateLimited = 1u << 8,      // "envoy-ratelimited"
  kRetryOnHttp3PostConnectFailure = 1u << 9,  // "http3-post-connect-failure"
  kRetryOnCancelled = 1u << 10,            // gRPC statuses: never seen on HTTP/1.1
  kRetryOnDeadlineExceeded = 1u << 11,
  kRetryOnInternal = 1u << 12,
  kRetryOnResourceExhausted = 1u << 13,
  kRetryOnUnavailable = 1u << 14,
};

struct RetryPolicy {
  std::uint32_t retry_on = 0;     // RetryOn bits
  std::uint32_t num_retries = 1;  // Envoy's default when the policy leaves it unset
  std::optional<std::chrono::milliseconds> per_try_timeout;
  std::vector<std::uint32_t> retriable_status_codes;
  bool previous_hosts = false;  // envoy.retry_host_predicates.previous_hosts
  std::uint32_t host_selection_max_attempts = 1;
  std::optional<std::chrono::milliseconds> backoff_base;  // unset: Envoy's 25 ms
  std::optional<std::chrono::milliseconds> backoff_max;   // unset: 10 x base

  bool Has(RetryOn condition) const { return (retry_on & condition) != 0; }
  // Whether an upstream answer with this status is retriable under this policy.
  bool RetriableStatus(std::uint32_t status) const;
};

struct MirrorPolicy {
  std::string cluster;
  Fraction fraction{100, 100};  // runtime_fraction's default value; unset: every request
};

}  // namespace cmesh::router
