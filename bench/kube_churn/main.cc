// cmesh-kube-churn: builds a mesh of Services, DestinationRules and Running pods on a real
// kube-apiserver, connects one sidecar ADS stream to the control plane under test, churns pods
// (label flips, replacements) at a fixed write rate and measures how long each write takes to
// show in the pushed endpoints. See churn_flags.cc for the command line and bench/kube_churn/README.md.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "churn_flags.h"
#include "churn_report.h"
#include "cmesh/kube/kube_config.h"
#include "cmesh/kube/rest_kube_client.h"
#include "eds_sidecar.h"
#include "endpoint_tracker.h"
#include "mesh_state.h"
#include "proc_stats.h"  // bench/xds_load

namespace cmesh::kube_churn {
namespace {

using nlohmann::json;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A port the kernel just handed out and nobody holds now (a race we accept for a benchmark).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

// {XDS_PORT} becomes the ADS port, each {FREE_PORT} another free port.
void SubstitutePorts(Flags& flags) {
  if (flags.xds_port < 0) flags.xds_port = FreePort();
  for (auto& arg : flags.server_command) {
    for (const auto& [token, xds] : {std::pair<std::string, bool>{"{XDS_PORT}", true}, {"{FREE_PORT}", false}}) {
      for (auto at = arg.find(token); at != std::string::npos; at = arg.find(token)) {
        arg.replace(at, token.size(), std::to_string(xds ? flags.xds_port : FreePort()));
      }
    }
  }
}

// Waits until something accepts connections on the port: the stream then connects at once
// instead of after gRPC's 1 s reconnect backoff, which would be counted as sync time.
bool WaitForListener(const std::string& host, int port, Clock::time_point deadline, pid_t pid) {
  while (Clock::now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &address.sin_addr);
    const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    if (connected) return true;
    if (pid > 0 && kill(pid, 0) != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The started server's process group, for the signal handler: Ctrl-C on the benchmark must not
// leave the control plane running (it has its own process group, so the terminal's SIGINT misses it).
volatile sig_atomic_t g_server_group = 0;

void OnSignal(int signal) {
  if (g_server_group > 0) kill(-g_server_group, SIGTERM);
  _exit(128 + signal);
}

pid_t StartServer(const Flags& flags) {
  const pid_t pid = fork();
  if (pid > 0) setpgid(pid, pid);  // also here: a signal may come before the child gets to it
  if (pid != 0) return pid;
  // The child: its own process group, so stopping it stops whatever it started.
  setpgid(0, 0);
  const int out = open(flags.server_log.empty() ? "/dev/null" : flags.server_log.c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out >= 0) {
    dup2(out, 1);
    dup2(out, 2);
  }
  std::vector<char*> argv;
  for (const auto& arg : flags.server_command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::perror("exec");
  _exit(127);
}

void StopServer(pid_t pid) {
  g_server_group = 0;
  kill(-pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

bool Alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

std::string Kb(std::optional<long> kb) { return kb ? std::to_string(*kb / 1024) + " MiB" : "n/a"; }

int Run(Flags flags) {
  auto config = kube::LoadKubeconfig(flags.kubeconfig);
  if (!config.ok()) {
    std::cerr << "kube-churn: " << config.error.message << "\n";
    return 2;
  }
  kube::RestClientOptions options;
  options.user_agent = "cmesh-kube-churn";
  auto client = kube::RestKubeClient::Create(*config.value, options);
  if (!client.ok()) {
    std::cerr << "kube-churn: " << client.error.message << "\n";
    return 2;
  }
  kube::KubeClient& kube = **client.value;
  const std::string name = flags.server_name;

  MeshState mesh(&kube, flags);
  const auto setup_start = Clock::now();
  if (std::string error = mesh.Setup(); !error.empty()) {
    std::cerr << "kube-churn: setup: " << error << "\n";
    return 2;
  }
  const double setup_s = Seconds(Clock::now() - setup_start);
  const int pods = flags.services * flags.pods_per_service;
  std::cout << "setup: " << flags.services << " services, " << flags.services << " DestinationRules, " << pods
            << " pods" << (flags.endpoint_slices ? ", " + std::to_string(flags.services) + " EndpointSlices" : "")
            << " in namespace " << flags.ns << ": " << setup_s << " s" << std::endl;

  SubstitutePorts(flags);
  pid_t pid = flags.server_pid;
  bool started = false;
  const auto server_start = Clock::now();
  if (!flags.server_command.empty()) {
    pid = StartServer(flags);
    started = pid > 0;
    if (started) g_server_group = pid;
  }
  auto finish = [&](int code) {
    if (started) StopServer(pid);
    if (flags.cleanup) {
      if (std::string error = mesh.CleanupNamespace(); !error.empty()) std::cerr << "kube-churn: cleanup: " << error << "\n";
    }
    return code;
  };

  EndpointTracker tracker;
  EdsSidecar sidecar(flags.address + ":" + std::to_string(flags.xds_port), flags.ns, flags.istio_version, &tracker);
  if (flags.address.find(':') == std::string::npos) {  // IPv4: wait for the listener (else gRPC's backoff)
    WaitForListener(flags.address, flags.xds_port, Clock::now() + flags.sync_timeout, started ? pid : 0);
  }
  sidecar.Start();
  const auto conditions = mesh.CurrentConditions();
  bool synced = false;
  for (auto deadline = Clock::now() + flags.sync_timeout; Clock::now() < deadline && !synced;) {
    synced = tracker.WaitFor(conditions, std::chrono::milliseconds(500));
    if (started && !Alive(pid)) break;
  }
  const double sync_s = Seconds(Clock::now() - server_start);
  if (!synced) {
    std::size_t missing = 0;
    for (const auto& c : conditions) missing += tracker.AllHold({c}) ? 0 : 1;
    std::cerr << "kube-churn: " << name << ": the sidecar never saw every pod (" << missing << " of " << pods
              << " missing after " << sync_s << " s; EDS subscription " << sidecar.eds_subscription_size()
              << " clusters" << (sidecar.ended().empty() ? "" : "; " + sidecar.ended())
              << (started && !Alive(pid) ? "; the server exited" : "") << ")\n";
    sidecar.Stop();
    return finish(2);
  }
  std::cout << name << ": synced " << pods << " endpoints in " << sidecar.eds_subscription_size()
            << " EDS clusters, " << sync_s << " s after " << (started ? "start" : "connecting") << std::endl;
  std::this_thread::sleep_for(flags.settle);
  const auto rss_idle = pid > 0 ? xds_load::ResidentKb(pid) : std::nullopt;
  const double cpu_before = pid > 0 ? xds_load::CpuSeconds(pid).value_or(-1) : -1;
  const auto sync_summary = tracker.Summarize();

  // The churn: writers share one schedule of write slots, `rate` per second.
  const auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / flags.rate));
  const auto churn_start = Clock::now();
  const auto churn_end = churn_start + flags.duration;
  std::atomic<std::int64_t> next_slot{0};
  const auto pace = [&] {
    const std::int64_t slot = next_slot++;
    std::this_thread::sleep_until(churn_start + slot * interval);
  };
  std::atomic<std::uint64_t> writes{0}, failed{0}, events{0}, replaces{0}, skipped{0};
  std::mutex error_mu;
  std::string first_error;
  std::vector<std::thread> writers;
  for (int w = 0; w < flags.writers; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(flags.seed * 1000003u + static_cast<unsigned>(w));
      while (Clock::now() < churn_end) {
        ChurnEvent event = mesh.RunEvent(rng, pace);
        if (event.writes == 0) {
          ++skipped;  // every slot tried was waiting for its push: try again shortly
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        writes += static_cast<std::uint64_t>(event.writes);
        failed += static_cast<std::uint64_t>(event.failed_writes);
        ++events;
        if (event.replace) ++replaces;
        if (!event.error.empty()) {
          std::lock_guard lock(error_mu);
          if (first_error.empty()) first_error = event.error;
        }
        if (event.expect.empty()) {
          mesh.Release(event.slot);
        } else {
          const int slot = event.slot;
          tracker.Expect(std::move(event.expect), event.answered, event.writes, [&mesh, slot] { mesh.Release(slot); });
        }
      }
    });
  }
  long rss_peak = rss_idle.value_or(0);
  while (Clock::now() < churn_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (auto rss = pid > 0 ? xds_load::ResidentKb(pid) : std::nullopt) rss_peak = std::max(rss_peak, *rss);
  }
  for (auto& writer : writers) writer.join();
  const double churn_s = Seconds(Clock::now() - churn_start);
  const double cpu_churn = pid > 0 ? xds_load::CpuSeconds(pid).value_or(-1) : -1;
  if (auto rss = pid > 0 ? xds_load::ResidentKb(pid) : std::nullopt) rss_peak = std::max(rss_peak, *rss);
  const std::size_t late = tracker.Drain(flags.drain);
  if (auto rss = pid > 0 ? xds_load::ResidentKb(pid) : std::nullopt) rss_peak = std::max(rss_peak, *rss);
  const double cpu_after = pid > 0 ? xds_load::CpuSeconds(pid).value_or(-1) : -1;
  const double drain_s = Seconds(Clock::now() - churn_start) - churn_s;
  const std::string stream_end = sidecar.ended();
  sidecar.Stop();

  auto summary = tracker.Summarize();
  // The sync's own arrivals are not churn: drop them from the figures.
  summary.latencies_ms.erase(summary.latencies_ms.begin(),
                             summary.latencies_ms.begin() + static_cast<std::ptrdiff_t>(sync_summary.latencies_ms.size()));
  summary.arrived_events -= sync_summary.arrived_events;
  summary.arrived_writes -= sync_summary.arrived_writes;
  const auto& lat = summary.latencies_ms;
  const double p50 = Percentile(lat, 50), p90 = Percentile(lat, 90), p99 = Percentile(lat, 99),
               max = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
  const auto counters = sidecar.counters();
  const double cpu_s = cpu_before >= 0 && cpu_churn >= 0 ? cpu_churn - cpu_before : -1;
  const double cpu_drain_s = cpu_before >= 0 && cpu_after >= 0 ? cpu_after - cpu_before : -1;

  std::cout << name << ": churn " << churn_s << " s: " << writes << " writes (" << writes / churn_s << "/s, "
            << failed << " failed), " << events << " events (" << replaces << " pod replacements, "
            << events - replaces << " label flips)\n"
            << name << ": write -> EDS push: p50 " << p50 << " ms, p90 " << p90 << " ms, p99 " << p99 << " ms, max "
            << max << " ms (" << summary.early << " arrived before the API answered)\n"
            << name << ": handled " << summary.arrived_writes / churn_s << " writes/s ("
            << summary.arrived_events / churn_s << " events/s); never arrived: " << summary.pending_events
            << " events (" << summary.pending_writes << " writes) after a " << drain_s << " s drain\n"
            << name << ": RSS idle " << Kb(rss_idle) << ", peak " << Kb(rss_peak ? std::optional<long>(rss_peak) : std::nullopt)
            << "; CPU during churn " << cpu_s << " s (" << (cpu_s >= 0 ? 100 * cpu_s / churn_s : -1)
            << "% of one core), incl. drain " << cpu_drain_s << " s\n"
            << name << ": EDS responses " << counters.responses[1] << ", ClusterLoadAssignments " << summary.updates
            << ", bytes " << counters.bytes << ", NACKs " << counters.nacks << std::endl;
  for (const auto& example : summary.pending_examples) std::cout << "  never arrived: " << example << "\n";
  if (!first_error.empty()) std::cout << "  first write error: " << first_error << "\n";
  if (!stream_end.empty()) std::cout << "  sidecar " << stream_end << "\n";

  json report = {{"server", name},
                 {"services", flags.services},
                 {"pods", pods},
                 {"endpoint_slices", flags.endpoint_slices},
                 {"setup_s", setup_s},
                 {"sync_s", sync_s},
                 {"rate_target", flags.rate},
                 {"churn_s", churn_s},
                 {"writes", writes.load()},
                 {"failed_writes", failed.load()},
                 {"write_rate", writes / churn_s},
                 {"events", events.load()},
                 {"replacements", replaces.load()},
                 {"arrived_events", summary.arrived_events},
                 {"arrived_writes", summary.arrived_writes},
                 {"handled_writes_per_s", summary.arrived_writes / churn_s},
                 {"handled_events_per_s", summary.arrived_events / churn_s},
                 {"never_arrived_events", summary.pending_events},
                 {"never_arrived_writes", summary.pending_writes},
                 {"early", summary.early},
                 {"p50_ms", p50},
                 {"p90_ms", p90},
                 {"p99_ms", p99},
                 {"max_ms", max},
                 {"rss_idle_kb", rss_idle ? json(*rss_idle) : json(nullptr)},
                 {"rss_peak_kb", rss_peak ? json(rss_peak) : json(nullptr)},
                 {"cpu_churn_s", cpu_s >= 0 ? json(cpu_s) : json(nullptr)},
                 {"cpu_with_drain_s", cpu_drain_s >= 0 ? json(cpu_drain_s) : json(nullptr)},
                 {"eds_responses", counters.responses[1]},
                 {"bytes", counters.bytes},
                 {"nacks", counters.nacks},
                 {"stream_ended", stream_end}};
  std::cout << report.dump() << std::endl;
  const bool complete = summary.pending_events == 0 && failed == 0 && stream_end.empty() && late == 0;
  return finish(complete ? 0 : 1);
}

}  // namespace
}  // namespace cmesh::kube_churn

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "report") {
    return cmesh::kube_churn::RunReport(std::vector<std::string>(argv + 2, argv + argc));
  }
  std::string error;
  auto flags = cmesh::kube_churn::ParseFlags(std::vector<std::string>(argv + 1, argv + argc), &error);
  if (!flags) {
    std::cerr << "cmesh-kube-churn: " << error << "\n\n" << cmesh::kube_churn::Usage();
    return 2;
  }
  if (flags->help) {
    std::cout << cmesh::kube_churn::Usage();
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, cmesh::kube_churn::OnSignal);
  signal(SIGTERM, cmesh::kube_churn::OnSignal);
  return cmesh::kube_churn::Run(*flags);
}
