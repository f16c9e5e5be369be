// Command line of cmesh-xds-load.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cmesh::xds_load {

struct Flags {
  std::string address = "127.0.0.1";
  int port = 15010;
  int streams = 1000;
  int streams_per_channel = 100;
  int open_batch = 0;                          // 0: the other N-1 streams open at once
  std::string ns = "default";                 // the sidecars' namespace
  std::map<std::string, std::string> labels = {{"app", "xds-load"}};  // node metadata LABELS
  pid_t server_pid = 0;                        // 0: no RSS or CPU figures
  std::string change_file;                     // rewritten with change_to's content
  std::string change_to;
  int change_rounds = 1;                       // odd rounds write change_to, even rounds restore
  std::chrono::milliseconds debounce_quiet{100};
  bool reconnect_storm = false;
  std::chrono::milliseconds timeout{120'000};  // per phase
  std::chrono::milliseconds settle{1'000};     // quiet time before reading RSS
  std::string server_name = "server";          // echoed in the report ("cmesh", "go-control-plane")
  bool help = false;
};

std::string Usage();
// nullopt with `*error` set on a bad command line.
std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error);
// "100ms", "2s", "1m"; a bare number is milliseconds.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text);

}  // namespace cmesh::xds_load
