#include "cmesh/logging/logger.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

namespace cmesh::logging {
namespace {

std::mutex g_mutex;
LogLevel g_level = LogLevel::kInfo;
bool g_json = false;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buffer;
}

}  // namespace

void ConfigureLogging(const std::string& level, bool json) {
  std::lock_guard lock(g_mutex);
  g_json = json;
  if (level == "debug") g_level = LogLevel::kDebug;
  else if (level == "warn") g_level = LogLevel::kWarn;
  else if (level == "error") g_level = LogLevel::kError;
  else g_level = LogLevel::kInfo;
}

void Log(LogLevel level, std::string_view message) {
  std::lock_guard lock(g_mutex);
  if (level < g_level) return;
  std::string line;
  if (g_json) {
    nlohmann::json object{{"time", Timestamp()}, {"level", LevelName(level)}, {"msg", std::string(message)}};
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = Timestamp() + "\t" + LevelName(level) + "\t" + std::string(message);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace cmesh::logging
