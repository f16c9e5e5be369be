// cmesh-http-rate --port PORT --host HOST[:PORT] [--address 127.0.0.1] [--path /] [--rate 2000]
//                 [--connections 16] [--warmup 1s] [--duration 10s]
//
// The fixed-rate HTTP/1.1 load generator of bench/proxy/run_proxy_bench (see rate_load.h): it
// sends --rate requests per second, due at fixed times, and prints one line of key=value figures:
// latency percentiles in microseconds from each request's due time, and the counts. Exit status
// 0 when the load ran (whatever the figures), 1 when it could not, 2 on a usage error.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "rate_load.h"

namespace {

using cmesh::bench::RateLoadOptions;

constexpr char kUsage[] =
    "usage: cmesh-http-rate --port PORT --host HOST[:PORT] [--address 127.0.0.1] [--path /]\n"
    "                       [--rate 2000] [--connections 16] [--warmup 1s] [--duration 10s]\n";

// "10s", "500ms", "2" (seconds).
bool ParseDuration(std::string_view text, std::chrono::nanoseconds* out) {
  double scale = 1e9;
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    scale = 1e6;
    text.remove_suffix(2);
  } else if (!text.empty() && text.back() == 's') {
    text.remove_suffix(1);
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) return false;
  *out = std::chrono::nanoseconds(static_cast<std::int64_t>(value * scale));
  return true;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool ParseFlags(int argc, char** argv, RateLoadOptions* options, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) {
      *error = std::string(name) + " needs a value";
      return false;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (name == "--address") {
      options->address = value;
    } else if (name == "--port") {
      ok = ParseNumber(value, &options->port) && options->port != 0;
    } else if (name == "--host") {
      options->host = value;
    } else if (name == "--path") {
      options->path = value;
      ok = !value.empty() && value.front() == '/';
    } else if (name == "--rate") {
      ok = ParseNumber(value, &options->rate) && options->rate > 0 && options->rate <= 1e6;
    } else if (name == "--connections") {
      ok = ParseNumber(value, &options->connections) && options->connections > 0 && options->connections <= 10000;
    } else if (name == "--warmup") {
      ok = ParseDuration(value, &options->warmup);
    } else if (name == "--duration") {
      ok = ParseDuration(value, &options->duration) && options->duration.count() > 0;
    } else {
      *error = "unknown flag " + std::string(name);
      return false;
    }
    if (!ok) {
      *error = std::string(name) + ": bad value " + std::string(value);
      return false;
    }
  }
  if (options->port == 0 || options->host.empty()) {
    *error = "--port and --host are required";
    return false;
  }
  return true;
}

double Percentile(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1]) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  RateLoadOptions options;
  std::string error;
  if (!ParseFlags(argc, argv, &options, &error)) {
    std::fprintf(stderr, "cmesh-http-rate: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  cmesh::bench::RateLoadResult result = cmesh::bench::RunRateLoad(options);
  if (!result.fatal.empty()) {
    std::fprintf(stderr, "cmesh-http-rate: %s\n", result.fatal.c_str());
    return 1;
  }
  std::vector<std::int64_t>& l = result.latencies_ns;
  std::sort(l.begin(), l.end());
  double sum = 0;
  for (std::int64_t v : l) sum += static_cast<double>(v);
  std::printf(
      "rate=%.0f connections=%d duration_s=%.1f scheduled=%llu completed=%llu recorded=%zu non_2xx=%llu errors=%llu "
      "reconnects=%llu max_queue=%zu achieved_rps=%.0f mean_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f "
      "p999_us=%.1f max_us=%.1f\n",
      options.rate, options.connections, result.measured_seconds, static_cast<unsigned long long>(result.scheduled),
      static_cast<unsigned long long>(result.completed), l.size(), static_cast<unsigned long long>(result.non_2xx),
      static_cast<unsigned long long>(result.errors), static_cast<unsigned long long>(result.reconnects),
      result.max_queue, static_cast<double>(l.size()) / result.measured_seconds,
      l.empty() ? 0.0 : sum / static_cast<double>(l.size()) / 1e3, Percentile(l, 0.50), Percentile(l, 0.90),
      Percentile(l, 0.99), Percentile(l, 0.999), l.empty() ? 0.0 : static_cast<double>(l.back()) / 1e3);
  return 0;
}
