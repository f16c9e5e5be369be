// The worker's random source, shared with the load balancers (cmesh/event/random.h).
#pragma once

#include "cmesh/event/random.h"

namespace cmesh::router {
using Random = event::Random;
}  // namespace cmesh::router
