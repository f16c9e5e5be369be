// Renders a Decision as the human-readable explanation `cmeshctl simulate` prints.
#pragma once

#include <string>

#include "cmesh/simulator/decision.h"
#include "cmesh/simulator/request.h"

namespace cmesh::simulator {

std::string Explain(const Request& request, const Decision& decision);

}  // namespace cmesh::simulator
