#include "churn_report.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

namespace cmesh::kube_churn {

using nlohmann::json;

namespace {

std::optional<json> LastJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') last = line;
  }
  if (last.empty()) return std::nullopt;
  json parsed = json::parse(last, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

std::optional<double> Number(const json& figures, const char* key) {
  auto it = figures.find(key);
  if (it == figures.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string Format(std::optional<double> value, double scale, const char* unit) {
  if (!value) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.1f%s", *value * scale, unit);
  return buffer;
}

}  // namespace

int RunReport(const std::vector<std::string>& args) {
  std::string cmesh_file, peer_file, peer_name = "peer";
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--cmesh") cmesh_file = args[i + 1];
    else if (args[i] == "--peer") peer_file = args[i + 1];
    else if (args[i] == "--peer-name") peer_name = args[i + 1];
    else {
      std::cerr << "report: unknown flag " << args[i] << "\n";
      return 2;
    }
  }
  auto cmesh = LastJson(cmesh_file);
  if (!cmesh) {
    std::cerr << "report: no figures in " << cmesh_file << "\n";
    return 2;
  }
  std::optional<json> peer;
  if (!peer_file.empty()) peer = LastJson(peer_file);
  struct Row {
    const char* label;
    const char* key;
    double scale;
    const char* unit;
    bool lower_is_better;
  };
  const Row rows[] = {
      {"write -> push p50", "p50_ms", 1, " ms", true},
      {"write -> push p90", "p90_ms", 1, " ms", true},
      {"write -> push p99", "p99_ms", 1, " ms", true},
      {"write -> push max", "max_ms", 1, " ms", true},
      {"writes/s achieved", "write_rate", 1, "", false},
      {"writes/s handled", "handled_writes_per_s", 1, "", false},
      {"events/s handled", "handled_events_per_s", 1, "", false},
      {"never arrived (events)", "never_arrived_events", 1, "", true},
      {"RSS idle", "rss_idle_kb", 1.0 / 1024, " MiB", true},
      {"RSS peak", "rss_peak_kb", 1.0 / 1024, " MiB", true},
      {"CPU during churn", "cpu_churn_s", 1, " s", true},
      {"initial sync", "sync_s", 1, " s", true},
  };
  std::printf("%-24s %14s %14s %8s\n", "", "cmesh", peer ? peer_name.c_str() : "(no peer)", peer ? "ratio" : "");
  for (const auto& row : rows) {
    const auto mine = Number(*cmesh, row.key);
    const auto theirs = peer ? Number(*peer, row.key) : std::nullopt;
    std::string ratio;
    if (mine && theirs && *mine > 0) {
      // peer/cmesh for costs, cmesh/peer for throughput: above 1 always favours cmesh.
      const double r = row.lower_is_better ? *theirs / *mine : (*theirs > 0 ? *mine / *theirs : 0);
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.2fx", r);
      ratio = buffer;
    }
    std::printf("%-24s %14s %14s %8s\n", row.label, Format(mine, row.scale, row.unit).c_str(),
                peer ? Format(theirs, row.scale, row.unit).c_str() : "", ratio.c_str());
  }
  std::printf("(ratio: above 1 favours cmesh; latencies, memory and CPU peer/cmesh, rates cmesh/peer)\n");
  return 0;
}

}  // namespace cmesh::kube_churn
