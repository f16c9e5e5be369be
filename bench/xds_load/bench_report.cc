#include "bench_report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

namespace cmesh::xds_load {
namespace {

using Json = nlohmann::json;

// The JSON line of a cmesh-xds-load output file; null when missing or unreadable.
Json LoadResult(const std::string& path) {
  if (path.empty()) return nullptr;
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') last = line;
  }
  if (last.empty()) return nullptr;
  Json parsed = Json::parse(last, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json(nullptr) : parsed;
}

std::optional<double> Number(const Json& result, const std::string& pointer) {
  if (!result.is_object()) return std::nullopt;
  const Json::json_pointer p(pointer);
  if (!result.contains(p)) return std::nullopt;
  const Json& v = result.at(p);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

// The median over change rounds of a per-round figure (server CPU per change).
std::optional<double> RoundsMedian(const Json& result, const std::string& key) {
  if (!result.is_object() || !result.contains("change") || !result["change"].contains("rounds")) return std::nullopt;
  std::vector<double> values;
  for (const auto& round : result["change"]["rounds"]) {
    if (round.contains(key) && round[key].is_number()) values.push_back(round[key].get<double>());
  }
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string Format(std::optional<double> value, int decimals) {
  if (!value) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, *value);
  return buffer;
}

struct Words {
  const char* better;  // cmesh lower than the peer
  const char* worse;
};
constexpr Words kTime{"faster", "slower"};
constexpr Words kCpu{"less CPU", "more CPU"};
constexpr Words kMemory{"less memory", "more memory"};

// peer / cmesh for lower-is-better figures: "3.20x faster" means cmesh needs 1/3.2 of the peer's.
std::string Ratio(std::optional<double> cmesh, std::optional<double> peer, const Words& words) {
  if (!cmesh || !peer) return "";
  if (*cmesh <= 0 || *peer <= 0) return "n/a (a zero figure)";
  const double r = *peer / *cmesh;
  char buffer[96];
  if (r >= 1) std::snprintf(buffer, sizeof buffer, "%.2fx %s", r, words.better);
  else std::snprintf(buffer, sizeof buffer, "%.2fx (cmesh %.2fx %s)", r, 1 / r, words.worse);
  return buffer;
}

void Row(const std::string& label, std::optional<double> cmesh, std::optional<double> peer, int decimals,
         const Words* words) {
  std::printf("  %-52s %12s %18s   %s\n", label.c_str(), Format(cmesh, decimals).c_str(),
              Format(peer, decimals).c_str(), words ? Ratio(cmesh, peer, *words).c_str() : "");
}

std::optional<double> Divide(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

void Section(const std::string& title, const Json& cmesh, const Json& peer, bool storm) {
  const auto n = Number(cmesh.is_object() ? cmesh : peer, "/streams");
  const std::string ns = n ? std::to_string(static_cast<long>(*n)) : "N";
  std::printf("\n%s\n  %-52s %12s %18s   %s\n", title.c_str(), "figure", "cmesh", "go-control-plane",
              "peer/cmesh");
  Row("streams synced (of " + ns + ")", Number(cmesh, "/synced"), Number(peer, "/synced"), 0, nullptr);
  Row("resources per stream (cds+eds+lds+rds)",
      [&]() -> std::optional<double> {
        double sum = 0;
        for (const char* t : {"/resources/cds", "/resources/eds", "/resources/lds", "/resources/rds"}) {
          auto v = Number(cmesh, t);
          if (!v) return std::nullopt;
          sum += *v;
        }
        return sum;
      }(),
      [&]() -> std::optional<double> {
        double sum = 0;
        for (const char* t : {"/resources/cds", "/resources/eds", "/resources/lds", "/resources/rds"}) {
          auto v = Number(peer, t);
          if (!v) return std::nullopt;
          sum += *v;
        }
        return sum;
      }(),
      0, nullptr);
  Row("first stream synced (ms)", Number(cmesh, "/first_sync_ms"), Number(peer, "/first_sync_ms"), 1, &kTime);
  Row("initial sync, " + ns + " streams at once, last (ms)", Number(cmesh, "/initial_sync_ms"),
      Number(peer, "/initial_sync_ms"), 1, &kTime);
  Row("initial sync p50 (ms)", Number(cmesh, "/initial_sync_p50_ms"), Number(peer, "/initial_sync_p50_ms"), 1,
      &kTime);
  Row("change: all ACKed, raw (ms, median of rounds)", Number(cmesh, "/change/ms"), Number(peer, "/change/ms"), 1,
      &kTime);
  Row("change: all ACKed minus debounce (ms)", Number(cmesh, "/change/after_debounce_ms"),
      Number(peer, "/change/after_debounce_ms"), 1, &kTime);
  Row("change: debounce subtracted (ms)", Number(cmesh, "/change/debounce_ms"), Number(peer, "/change/debounce_ms"),
      0, nullptr);
  Row("change: p50 of first round, raw (ms)", Number(cmesh, "/change/rounds/0/p50_ms"),
      Number(peer, "/change/rounds/0/p50_ms"), 1, &kTime);
  Row("change: server CPU per change (s, median)", RoundsMedian(cmesh, "server_cpu_s"),
      RoundsMedian(peer, "server_cpu_s"), 2, &kCpu);
  Row("change: load tool CPU per change (s, median)", RoundsMedian(cmesh, "load_cpu_s"),
      RoundsMedian(peer, "load_cpu_s"), 2, nullptr);
  Row("change: bytes the change sent to all streams", RoundsMedian(cmesh, "bytes_received"),
      RoundsMedian(peer, "bytes_received"), 0, nullptr);
  Row("server RSS, 1 stream (KB)", Number(cmesh, "/rss_1_kb"), Number(peer, "/rss_1_kb"), 0, &kMemory);
  Row("server RSS, " + ns + " streams (KB)", Number(cmesh, "/rss_n_kb"), Number(peer, "/rss_n_kb"), 0, &kMemory);
  Row("RSS per stream beyond the shared snapshot (KB)", Number(cmesh, "/kb_per_stream"),
      Number(peer, "/kb_per_stream"), 2, &kMemory);
  if (storm) {
    Row("reconnect storm: all " + ns + " synced again (ms)", Number(cmesh, "/storm/ms"), Number(peer, "/storm/ms"),
        1, &kTime);
    Row("reconnect storm: p50 (ms)", Number(cmesh, "/storm/p50_ms"), Number(peer, "/storm/p50_ms"), 1, &kTime);
    Row("reconnect storm: server CPU (s)", Number(cmesh, "/storm/server_cpu_s"), Number(peer, "/storm/server_cpu_s"),
        2, &kCpu);
    Row("reconnect storm: load tool CPU (s)", Number(cmesh, "/storm/load_cpu_s"), Number(peer, "/storm/load_cpu_s"), 2,
        nullptr);
    Row("reconnect storm: bytes received (MB)", Divide(Number(cmesh, "/storm/bytes_received"), 1e6),
        Divide(Number(peer, "/storm/bytes_received"), 1e6), 1, nullptr);
  }
  Row("server CPU over the whole run (s)", Number(cmesh, "/server_cpu_s"), Number(peer, "/server_cpu_s"), 2, &kCpu);
  Row("load tool CPU over the whole run (s)", Number(cmesh, "/load_cpu_s"), Number(peer, "/load_cpu_s"), 2, nullptr);
  Row("errors: unexpected stream ends", Number(cmesh, "/errors/unexpected_stream_ends"),
      Number(peer, "/errors/unexpected_stream_ends"), 0, nullptr);
  Row("errors: malformed responses (NACKed)", Number(cmesh, "/errors/malformed_responses"),
      Number(peer, "/errors/malformed_responses"), 0, nullptr);
  for (const auto* result : {&cmesh, &peer}) {
    if (result->is_object() && result->contains("failure")) {
      std::printf("  %s did not complete: %s\n", (*result)["server"].get<std::string>().c_str(),
                  (*result)["failure"].get<std::string>().c_str());
    }
  }
}

void Goal(const std::string& text, std::optional<double> value, double limit, bool at_least,
          const std::string& unit) {
  std::string verdict = "not measured";
  if (value) verdict = (at_least ? *value >= limit : *value <= limit) ? "met" : "NOT met";
  std::printf("  %-58s %10s %-4s  %s\n", text.c_str(), Format(value, 2).c_str(), unit.c_str(), verdict.c_str());
}

}  // namespace

int RunReport(const std::vector<std::string>& args) {
  std::map<std::string, std::string> files;
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) files[args[i]] = args[i + 1];
  if (args.size() % 2 != 0 || !files.count("--cmesh")) {
    std::fprintf(stderr,
                 "usage: cmesh-xds-load report --cmesh FILE [--peer FILE] [--cmesh-storm FILE --peer-storm FILE] "
                 "[--machine TEXT]\n");
    return 2;
  }
  const Json cmesh = LoadResult(files["--cmesh"]);
  const Json peer = LoadResult(files["--peer"]);
  const Json cmesh_storm = LoadResult(files["--cmesh-storm"]);
  const Json peer_storm = LoadResult(files["--peer-storm"]);
  if (files.count("--machine")) std::printf("machine: %s\n", files["--machine"].c_str());
  std::printf("ratios are peer/cmesh: above 1 cmesh needs less (\"3.00x faster\" = a third of the peer's time)\n");
  Section("Run 1: change and memory", cmesh, peer, false);
  if (cmesh_storm.is_object() || peer_storm.is_object()) Section("Run 2: reconnect storm", cmesh_storm, peer_storm, true);

  std::printf("\nGoals of issue 3 (this 2-core machine; informational, no exit status):\n");
  Goal("N=" + Format(Number(cmesh, "/streams"), 0) + ": all ACKed the change <= 250 ms after the debounce",
       Number(cmesh, "/change/after_debounce_ms"), 250, false, "ms");
  Goal(">= 3x faster than go-control-plane (cmesh minus debounce)",
       Divide(Number(peer, "/change/ms"), Number(cmesh, "/change/after_debounce_ms")), 3, true, "x");
  Goal(">= 3x faster than go-control-plane (cmesh raw, debounce included)",
       Divide(Number(peer, "/change/ms"), Number(cmesh, "/change/ms")), 3, true, "x");
  Goal("<= 20 KB RSS per connected stream", Number(cmesh, "/kb_per_stream"), 20, false, "KB");
  Goal("N=" + Format(Number(cmesh_storm, "/streams"), 0) + " reconnect storm fully served <= 10 s",
       Divide(Number(cmesh_storm, "/storm/ms"), std::optional<double>(1000.0)), 10, false, "s");
  return cmesh.is_object() ? 0 : 1;
}

}  // namespace cmesh::xds_load
