// cmesh-xds-load: N simulated sidecars against an ADS server, measuring what issue 3 asks of the
// control plane: the initial sync, RSS per connected stream, the time until every stream has
// ACKed a config change, CPU seconds, and optionally a reconnect storm. The phases:
//   1. one stream syncs; the server's RSS is read (RSS_1);
//   2. the other N-1 streams open at once; all N sync (initial sync time); RSS_N;
//      KB per stream = (RSS_N - RSS_1) / (N - 1), i.e. beyond the shared snapshots;
//   3. --change-file is rewritten with --change-to's content; the time until every stream has
//      ACKed an RDS version other than the one it held (repeated --change-rounds times,
//      alternating with the original content);
//   4. --reconnect-storm: every stream is cancelled at once, and all reconnect on new channels;
//      the time until every stream has synced again.
// Prints human-readable lines, then one JSON line with every figure.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench_report.h"
#include "flags.h"
#include "load_counters.h"
#include "milestones.h"
#include "proc_stats.h"
#include "response_digest.h"
#include "stream_fleet.h"

namespace cmesh::xds_load {
namespace {

using Json = nlohmann::json;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

double Max(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

// To `digits` decimals, so the JSON shows 81.6 rather than 81.60000000000001.
double Round(double value, int digits = 1) {
  const double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// In place (open, truncate, write, close): both servers under test react to the close
// (IN_CLOSE_WRITE), and no temporary file appears in the watched directory.
bool RewriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  return static_cast<bool>(out);
}

void RaiseOpenFilesLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

class Run {
 public:
  explicit Run(const Flags& flags)
      : flags_(flags),
        n_(static_cast<std::size_t>(flags.streams)),
        shared_{&digests_, &counters_, &synced_, &change_acked_},
        fleet_(flags, shared_) {}

  int Execute();

 private:
  bool ServerAlive() const {
    if (flags_.server_pid == 0) return true;
    return ::kill(flags_.server_pid, 0) == 0 || errno == EPERM;
  }
  std::optional<double> ServerCpu() const {
    return flags_.server_pid ? CpuSeconds(flags_.server_pid) : std::nullopt;
  }
  std::optional<long> ServerRss() const { return flags_.server_pid ? ResidentKb(flags_.server_pid) : std::nullopt; }
  // Waits for `count` streams at `milestone`, printing progress every 5 s; false on timeout,
  // server death or when no stream is left open.
  bool Wait(Milestones& milestone, std::size_t count, const std::string& what);
  void Line(const std::string& text) { std::cout << "[" << flags_.server_name << "] " << text << std::endl; }
  Json CountsByType(const std::array<std::uint64_t, kXdsTypeCount>& before) const;
  std::array<std::uint64_t, kXdsTypeCount> Responses() const {
    std::array<std::uint64_t, kXdsTypeCount> out{};
    for (std::size_t i = 0; i < kXdsTypeCount; ++i) out[i] = counters_.responses[i].load();
    return out;
  }
  bool ChangePhase(Json* report);
  bool StormPhase(Json* report);

  const Flags& flags_;
  const std::size_t n_;
  DigestCache digests_;
  LoadCounters counters_;
  Milestones synced_;
  Milestones change_acked_;
  StreamShared shared_;
  StreamFleet fleet_;
  std::string failure_;
};

bool Run::Wait(Milestones& milestone, std::size_t count, const std::string& what) {
  const auto deadline = Clock::now() + flags_.timeout;
  bool server_gone = false;
  while (true) {
    const auto slice = std::min(deadline, Clock::now() + std::chrono::seconds(5));
    if (milestone.WaitFor(count, slice, [&] {
          server_gone = !ServerAlive();
          return server_gone || fleet_.open_streams() == 0;
        })) {
      return true;
    }
    if (server_gone || fleet_.open_streams() == 0 || Clock::now() >= deadline) break;
    std::cerr << "[" << flags_.server_name << "] " << what << ": " << milestone.reached() << "/" << count
              << " so far, " << fleet_.open_streams() << " streams open" << std::endl;
  }
  std::ostringstream why;
  why << what << ": " << milestone.reached() << "/" << count << " reached; ";
  if (server_gone) why << "the server process is gone";
  else if (fleet_.open_streams() == 0) why << "every stream has ended";
  else why << "timed out after " << flags_.timeout.count() << " ms";
  failure_ = why.str();
  Line("FAILED " + failure_);
  for (const auto& lagging : fleet_.Lagging(milestone, 5)) Line("  lagging " + lagging);
  return false;
}

Json Run::CountsByType(const std::array<std::uint64_t, kXdsTypeCount>& before) const {
  Json out = Json::object();
  auto now = Responses();
  for (std::size_t i = 0; i < kXdsTypeCount; ++i) out[std::string(ShortName(static_cast<XdsType>(i)))] = now[i] - before[i];
  return out;
}

bool Run::ChangePhase(Json* report) {
  auto original = ReadFile(flags_.change_file);
  auto changed = ReadFile(flags_.change_to);
  if (!original || !changed) {
    failure_ = "cannot read " + std::string(!original ? flags_.change_file : flags_.change_to);
    Line("FAILED " + failure_);
    return false;
  }
  if (*original == *changed) {
    // Nothing could change: fail now rather than wait for a version that never comes.
    failure_ = flags_.change_file + " already has the content of " + flags_.change_to;
    Line("FAILED " + failure_);
    return false;
  }
  Json rounds = Json::array();
  std::vector<double> totals;
  bool ok = true;
  for (int round = 1; round <= flags_.change_rounds && ok; ++round) {
    change_acked_.Start(n_);
    fleet_.ArmChange();
    const auto responses_before = Responses();
    const auto cpu_before = ServerCpu();
    const auto load_cpu_before = CpuSeconds(::getpid());
    const auto bytes_before = counters_.bytes_received.load();
    const auto start = Clock::now();
    if (!RewriteFile(flags_.change_file, round % 2 == 1 ? *changed : *original)) {
      failure_ = "cannot write " + flags_.change_file;
      Line("FAILED " + failure_);
      return false;
    }
    ok = Wait(change_acked_, n_, "change round " + std::to_string(round));
    const auto times = change_acked_.MillisSince(start);
    const auto cpu_after = ServerCpu();
    const auto load_cpu_after = CpuSeconds(::getpid());
    Json r;
    r["round"] = round;
    r["acked"] = times.size();
    r["ms"] = Round(Max(times));
    r["after_debounce_ms"] = Round(Max(times) - static_cast<double>(flags_.debounce_quiet.count()));
    r["first_ms"] = Round(times.empty() ? 0 : *std::min_element(times.begin(), times.end()));
    r["p50_ms"] = Round(Percentile(times, 50));
    r["p99_ms"] = Round(Percentile(times, 99));
    if (cpu_before && cpu_after) r["server_cpu_s"] = Round(*cpu_after - *cpu_before, 2);
    // The load tool shares the machine's cores with the server: its own CPU shows how much.
    if (load_cpu_before && load_cpu_after) r["load_cpu_s"] = Round(*load_cpu_after - *load_cpu_before, 2);
    r["bytes_received"] = counters_.bytes_received.load() - bytes_before;
    // Responses of each type the change caused (read after the last ACK; a server that keeps
    // sending would show here).
    r["responses"] = CountsByType(responses_before);
    Line("change round " + std::to_string(round) + ": " + std::to_string(times.size()) + "/" + std::to_string(n_) +
         " ACKed the new RDS version in " + r["ms"].dump() + " ms (" + r["after_debounce_ms"].dump() +
         " ms after the " + std::to_string(flags_.debounce_quiet.count()) + " ms debounce; first " +
         r["first_ms"].dump() + " ms, p50 " + r["p50_ms"].dump() + " ms, p99 " + r["p99_ms"].dump() +
         " ms), server CPU " + (r.contains("server_cpu_s") ? r["server_cpu_s"].dump() : "n/a") + " s, load tool CPU " +
         (r.contains("load_cpu_s") ? r["load_cpu_s"].dump() : "n/a") + " s, responses " + r["responses"].dump() +
         ", " + r["bytes_received"].dump() + " bytes");
    if (ok) totals.push_back(Max(times));
    rounds.push_back(r);
    if (ok && round < flags_.change_rounds) std::this_thread::sleep_for(flags_.settle);
  }
  Json change;
  change["rounds"] = rounds;
  change["debounce_ms"] = flags_.debounce_quiet.count();
  change["all_acked"] = ok;
  change["acked"] = rounds.empty() ? Json(0) : rounds[0]["acked"];
  if (!totals.empty()) {
    const double median = Percentile(totals, 50);
    change["ms"] = Round(median);
    change["after_debounce_ms"] = Round(median - static_cast<double>(flags_.debounce_quiet.count()));
    if (totals.size() > 1) {
      Line("change: median over " + std::to_string(totals.size()) + " rounds " + change["ms"].dump() + " ms, " +
           change["after_debounce_ms"].dump() + " ms after the debounce");
    }
  }
  (*report)["change"] = change;
  return ok;
}

bool Run::StormPhase(Json* report) {
  synced_.Start(n_);
  const auto cpu_before = ServerCpu();
  const auto load_cpu_before = CpuSeconds(::getpid());
  const auto bytes_before = counters_.bytes_received.load();
  const auto start = Clock::now();
  const bool dropped = fleet_.DropAll(flags_.timeout);
  const double drop_ms = Millis(Clock::now() - start);
  fleet_.Open(0, n_);
  const bool ok = dropped && Wait(synced_, n_, "reconnect storm");
  const auto times = synced_.MillisSince(start);
  const auto cpu_after = ServerCpu();
  const auto load_cpu_after = CpuSeconds(::getpid());
  Json storm;
  storm["synced"] = times.size();
  storm["ms"] = Round(Max(times));
  storm["drop_ms"] = Round(drop_ms);
  storm["p50_ms"] = Round(Percentile(times, 50));
  storm["p99_ms"] = Round(Percentile(times, 99));
  if (cpu_before && cpu_after) storm["server_cpu_s"] = Round(*cpu_after - *cpu_before, 2);
  if (load_cpu_before && load_cpu_after) storm["load_cpu_s"] = Round(*load_cpu_after - *load_cpu_before, 2);
  storm["bytes_received"] = counters_.bytes_received.load() - bytes_before;
  Line("reconnect storm: " + std::to_string(times.size()) + "/" + std::to_string(n_) +
       " streams dropped and synced again in " + storm["ms"].dump() + " ms (drop " + storm["drop_ms"].dump() +
       " ms, p50 " + storm["p50_ms"].dump() + " ms, p99 " + storm["p99_ms"].dump() + " ms), server CPU " +
       (storm.contains("server_cpu_s") ? storm["server_cpu_s"].dump() : "n/a") + " s, load tool CPU " +
       (storm.contains("load_cpu_s") ? storm["load_cpu_s"].dump() : "n/a") + " s, " + storm["bytes_received"].dump() +
       " bytes");
  if (!dropped) failure_ = "reconnect storm: some streams did not end after cancellation";
  (*report)["storm"] = storm;
  return ok;
}

int Run::Execute() {
  Json report;
  report["tool"] = "cmesh-xds-load";
  report["server"] = flags_.server_name;
  report["streams"] = n_;
  report["streams_per_channel"] = flags_.streams_per_channel;
  const auto cpu_start = ServerCpu();
  const auto load_cpu_start = CpuSeconds(::getpid());
  bool ok = true;

  // Phase 1: one stream.
  synced_.Start(n_);
  auto start = Clock::now();
  fleet_.Open(0, 1);
  ok = Wait(synced_, 1, "first stream sync");
  report["first_sync_ms"] = Round(Millis(Clock::now() - start));
  std::optional<long> rss_1;
  if (ok) {
    std::this_thread::sleep_for(flags_.settle);
    rss_1 = ServerRss();
    Line("first stream synced in " + report["first_sync_ms"].dump() + " ms; server RSS " +
         (rss_1 ? std::to_string(*rss_1) + " KB" : "n/a"));
  }

  // Phase 2: the other N-1 at once.
  if (ok) {
    start = Clock::now();
    if (flags_.open_batch > 0) {
      const auto batch = static_cast<std::size_t>(flags_.open_batch);
      for (std::size_t from = 1; from < n_ && ok; from += batch) {
        const std::size_t to = std::min(n_, from + batch);
        fleet_.Open(from, to);
        ok = Wait(synced_, to, "initial sync (batches of " + std::to_string(batch) + ")");
      }
    } else {
      fleet_.Open(1, n_);
      ok = Wait(synced_, n_, "initial sync");
    }
    report["open_batch"] = flags_.open_batch;
    std::vector<double> times = synced_.MillisSince(start);
    times.erase(std::remove_if(times.begin(), times.end(), [](double t) { return t < 0; }), times.end());
    report["synced"] = synced_.reached();
    report["initial_sync_ms"] = Round(Max(times));
    report["initial_sync_p50_ms"] = Round(Percentile(times, 50));
    report["initial_sync_p99_ms"] = Round(Percentile(times, 99));
    Line(std::to_string(synced_.reached()) + "/" + std::to_string(n_) + " streams on " +
         std::to_string(fleet_.channels()) + " connections synced (CDS, EDS, LDS, RDS ACKed); the last " +
         std::to_string(n_ - 1) +
         (flags_.open_batch > 0 ? " opened in batches of " + std::to_string(flags_.open_batch) : " opened at once") +
         " took " + report["initial_sync_ms"].dump() + " ms (p50 " +
         report["initial_sync_p50_ms"].dump() + ", p99 " + report["initial_sync_p99_ms"].dump() + ")");
  }
  report["channels"] = fleet_.channels();
  if (const AdsLoadStream* first = fleet_.stream(0)) {
    Json resources;
    for (std::size_t i = 0; i < kXdsTypeCount; ++i) {
      const auto type = static_cast<XdsType>(i);
      resources[std::string(ShortName(type))] = first->resource_count(type);
    }
    report["resources"] = resources;
    Line("resources per stream: " + resources.dump());
  }
  if (ok) {
    std::this_thread::sleep_for(flags_.settle);
    const auto rss_n = ServerRss();
    if (rss_1 && rss_n) {
      report["rss_1_kb"] = *rss_1;
      report["rss_n_kb"] = *rss_n;
      const double per_stream = n_ > 1 ? static_cast<double>(*rss_n - *rss_1) / static_cast<double>(n_ - 1) : 0;
      report["kb_per_stream"] = Round(per_stream, 2);
      Line("server RSS " + std::to_string(*rss_1) + " KB with 1 stream, " + std::to_string(*rss_n) + " KB with " +
           std::to_string(n_) + ": " + report["kb_per_stream"].dump() + " KB per stream");
    }
  }

  if (ok && !flags_.change_file.empty()) ok = ChangePhase(&report);
  if (ok && flags_.reconnect_storm) ok = StormPhase(&report);

  const auto cpu_end = ServerCpu();
  if (cpu_start && cpu_end) report["server_cpu_s"] = Round(*cpu_end - *cpu_start, 2);
  if (auto load_cpu = CpuSeconds(::getpid()); load_cpu && load_cpu_start) {
    report["load_cpu_s"] = Round(*load_cpu - *load_cpu_start, 2);
  }
  Json errors;
  errors["malformed_responses"] = counters_.malformed_responses.load();
  std::uint64_t nacks = 0;
  for (const auto& n : counters_.nacks) nacks += n.load();
  errors["nacks_sent"] = nacks;
  errors["unexpected_stream_ends"] = counters_.unexpected_ends();
  Json codes = Json::object();
  for (const auto& [code, count] : counters_.end_codes()) codes[std::to_string(code)] = count;
  errors["end_codes"] = codes;
  errors["writes_failed"] = counters_.writes_failed.load();
  errors["samples"] = counters_.error_samples();
  report["errors"] = errors;
  Json responses;
  for (std::size_t i = 0; i < kXdsTypeCount; ++i) {
    responses[std::string(ShortName(static_cast<XdsType>(i)))] = counters_.responses[i].load();
  }
  report["responses"] = responses;
  report["bytes_received"] = counters_.bytes_received.load();
  report["digests_decoded"] = digests_.decoded();
  report["complete"] = ok;
  if (!ok) report["failure"] = failure_;
  Line("server CPU " + (report.contains("server_cpu_s") ? report["server_cpu_s"].dump() : "n/a") +
       " s over the run; load tool CPU " + (report.contains("load_cpu_s") ? report["load_cpu_s"].dump() : "n/a") +
       " s; errors " + errors.dump());
  std::cout << report.dump(-1, ' ', false, Json::error_handler_t::replace) << std::endl;
  return ok && counters_.unexpected_ends() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace cmesh::xds_load

int main(int argc, char** argv) {
  using namespace cmesh::xds_load;
  if (argc > 1 && std::string(argv[1]) == "report") return RunReport(std::vector<std::string>(argv + 2, argv + argc));
  std::string error;
  auto flags = ParseFlags(std::vector<std::string>(argv + 1, argv + argc), &error);
  if (!flags) {
    std::fprintf(stderr, "cmesh-xds-load: %s\n%s", error.c_str(), Usage().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  RaiseOpenFilesLimit();
  int code = 0;
  {
    Run run(*flags);
    code = run.Execute();
  }
  return code;
}
