// Prometheus' own checker reads what we render. promtool comes from Debian's prometheus package
// (scripts/setup installs it); CMake finds it at configure time. A missing promtool fails these
// tests rather than skipping them, so CI cannot pass without really running the check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "cmesh/metrics/buckets.h"
#include "cmesh/metrics/registry.h"
#include "cmesh/metrics/text_format.h"

namespace cmesh::metrics {
namespace {

struct CheckResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `promtool check metrics` with `text` on stdin. Exit codes: 0 clean, 1 parse error, 3 lint
// problems (promtool 2.42).
CheckResult PromtoolCheck(const std::string& text) {
  CheckResult result;
  const std::string promtool = CMESH_PROMTOOL;
  if (promtool.empty()) {
    ADD_FAILURE() << "promtool not found when CMake configured the build: run scripts/setup "
                     "(it installs Debian's prometheus package, which ships /usr/bin/promtool), then "
                     "re-run cmake";
    return result;
  }
  const auto path = std::filesystem::temp_directory_path() /
                    ("cmesh-metrics-" + std::to_string(::getpid()) + ".prom");
  std::ofstream(path, std::ios::binary) << text;
  const std::string command = "'" + promtool + "' check metrics < '" + path.string() + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return result;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = ::pclose(pipe);
  std::filesystem::remove(path);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A registry that uses every feature: all three types, several labels, values that need escaping
// (backslash, quote, newline, non-ASCII and invalid UTF-8), help that needs escaping, NaN and
// infinities, fractional counters, Istio's bucket sets and a histogram without labels.
void Populate(Registry* r) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  CounterFamily& pushes = r->AddCounter("cmesh_xds_pushes_total",
                                        "Pushes per type, with a \\ and a\nnewline in help.",
                                        {"type", "note"})
                              .OrDie();
  pushes.WithLabels({"cds", "plain"}).Inc(3);
  pushes.WithLabels({"eds", "back\\slash \"quoted\"\nnew line"}).Inc();
  pushes.WithLabels({"rds", "caf\xC3\xA9 \xF0\x9F\x9A\x80"}).Add(0.5);
  pushes.WithLabels({"lds", "broken \xFF utf8"}).Inc(1000000);
  pushes.WithLabels({"sds", ""}).Add(kInf);

  GaugeFamily& objects = r->AddGauge("cmesh_config_objects", "Objects by kind.", {"kind"}).OrDie();
  objects.WithLabels({"VirtualService"}).Set(12);
  objects.WithLabels({"DestinationRule"}).Set(-3.75);
  objects.WithLabels({"nan"}).Set(kNaN);
  objects.WithLabels({"pos_inf"}).Set(kInf);
  objects.WithLabels({"neg_inf"}).Set(-kInf);
  objects.WithLabels({"tiny"}).Set(1e-300);
  objects.WithLabels({"huge"}).Set(1.5e300);
  r->AddGauge("cmesh_xds_connected_proxies", "Connected proxies.").OrDie().Get().Set(1000);

  HistogramFamily& push_time =
      r->AddHistogram("cmesh_xds_push_time_seconds", "Push time.", PushTimeSecondsBuckets(),
                      {"type"})
          .OrDie();
  for (double v : {0.001, 0.05, 0.5, 2.0, 100.0}) push_time.WithLabels({"cds"}).Observe(v);
  push_time.WithLabels({"eds"}).Observe(kNaN);
  Histogram& convergence = r->AddHistogram("cmesh_proxy_convergence_time_seconds", "Convergence.",
                                           ConvergenceSecondsBuckets())
                               .OrDie()
                               .Get();
  convergence.Observe(0.3);
  convergence.Observe(25);
  r->AddHistogram("cmesh_request_duration_seconds", "Request duration.",
                  {0.0005, 0.001, 0.005, 0.01, 0.1, 1}, {"code", "le_not"})
      .OrDie()
      .WithLabels({"200", "x"})
      .Observe(0.002);
  r->AddHistogram("cmesh_empty_seconds", "No bounds: only +Inf.", {}).OrDie().Get().Observe(1);
  r->AddCounter("cmesh_untouched_total", "Labels, no series: not rendered.", {"x"}).OrDie();
}

TEST(PromtoolTest, AcceptsEverythingTheRegistryRenders) {
  Registry r;
  Populate(&r);
  const std::string text = RenderText(r);
  // The features are really in the text we check.
  EXPECT_THAT(text, ::testing::HasSubstr("note=\"back\\\\slash \\\"quoted\\\"\\nnew line\""));
  EXPECT_THAT(text, ::testing::HasSubstr("cmesh_config_objects{kind=\"nan\"} NaN\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("cmesh_config_objects{kind=\"neg_inf\"} -Inf\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("cmesh_xds_pushes_total{type=\"sds\",note=\"\"} +Inf\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("cmesh_xds_push_time_seconds_sum{type=\"eds\"} NaN\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("le=\"+Inf\""));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("cmesh_untouched_total")));
  const CheckResult check = PromtoolCheck(text);
  // Exit 0 also means no lint complaint (promtool exits 3 for those).
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n--- checked text ---\n" << text;
  EXPECT_EQ(check.output, "");
}

TEST(PromtoolTest, RejectsBrokenText) {
  // An unescaped quote ends the label value early: a parse error.
  const CheckResult bad_escape = PromtoolCheck(
      "# HELP m h\n# TYPE m gauge\nm{path=\"say \"hi\"\"} 1\n");
  EXPECT_EQ(bad_escape.exit_code, 1) << bad_escape.output;
  EXPECT_THAT(bad_escape.output, ::testing::HasSubstr("parsing error"));
  // A value written with a decimal comma, as a locale-dependent printf would.
  const CheckResult bad_value = PromtoolCheck("# HELP m h\n# TYPE m gauge\nm 1,5\n");
  EXPECT_EQ(bad_value.exit_code, 1) << bad_value.output;
  EXPECT_THAT(bad_value.output, ::testing::HasSubstr("expected float"));
}

TEST(PromtoolTest, LintsWhatParsesButBreaksConventions) {
  // A counter without _total and without help: parses, then fails promtool's lint (exit 3).
  const CheckResult lint = PromtoolCheck("# TYPE events counter\nevents 1\n");
  EXPECT_EQ(lint.exit_code, 3) << lint.output;
  EXPECT_THAT(lint.output, ::testing::HasSubstr("_total"));
}

}  // namespace
}  // namespace cmesh::metrics
