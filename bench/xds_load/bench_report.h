// `cmesh-xds-load report`: the side-by-side table of bench/run_xds_bench. Reads the outputs of
// cmesh-xds-load runs (the last line starting with '{' of each file is its JSON) for cmesh and
// for the peer, prints every figure with the ratio peer/cmesh, and the goals.
#pragma once

#include <string>
#include <vector>

namespace cmesh::xds_load {

// args: --cmesh FILE --peer FILE [--cmesh-storm FILE --peer-storm FILE] [--machine TEXT]
// Returns 0 when the files could be read (never a verdict on timing), 2 on usage errors.
int RunReport(const std::vector<std::string>& args);

}  // namespace cmesh::xds_load
