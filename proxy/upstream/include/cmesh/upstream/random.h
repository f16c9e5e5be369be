// The worker's random source, shared with the router (cmesh/event/random.h).
#pragma once

#include "cmesh/event/random.h"

namespace cmesh::upstream {
using Random = event::Random;
}  // namespace cmesh::upstream
