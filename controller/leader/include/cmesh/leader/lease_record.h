// The part of a coordination.k8s.io/v1 Lease that leader election reads and writes (its spec).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cmesh::leader {

struct LeaseRecord {
  std::string holder_identity;  // empty: nobody holds it (released)
  int lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime strings, kept verbatim so a renewal does not rewrite them
  std::string renew_time;
  int lease_transitions = 0;

  bool operator==(const LeaseRecord&) const = default;
};

// Reads the spec of a Lease object; absent fields keep their zero values.
LeaseRecord LeaseRecordFromLease(const nlohmann::json& lease);
// The spec object for a Lease; empty strings are left out (the API rejects "" as a MicroTime).
nlohmann::json LeaseRecordToSpec(const LeaseRecord& record);

// Kubernetes MicroTime: RFC 3339 in UTC with exactly six fractional digits,
// e.g. "2026-11-26T07:30:35.123456Z".
std::string FormatMicroTime(std::chrono::system_clock::time_point time);

}  // namespace cmesh::leader
