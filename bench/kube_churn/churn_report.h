// `cmesh-kube-churn report --cmesh FILE [--peer FILE] [--peer-name NAME]`: the side-by-side
// table of bench/run_kube_bench. Each file is the output of one run; its last line starting
// with '{' is the JSON figures. Ratios are peer/cmesh (above 1: cmesh is faster or smaller).
#pragma once

#include <string>
#include <vector>

namespace cmesh::kube_churn {

// Returns 0 when the files could be read (never a verdict on timing), 2 otherwise.
int RunReport(const std::vector<std::string>& args);

}  // namespace cmesh::kube_churn
