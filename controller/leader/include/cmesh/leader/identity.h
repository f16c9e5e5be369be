// The identity a replica writes into the Lease's holderIdentity.
#pragma once

#include <string>

namespace cmesh::leader {

// `pod_name` (or the host name when empty) plus "_" and a random suffix, so that a restarted pod
// with the same name is a new candidate and never mistakes the old process's lease for its own.
std::string MakeLeaderIdentity(const std::string& pod_name);

}  // namespace cmesh::leader
