// Log lines of cmesh-pilot and cmesh-proxy on stderr, as text or one JSON object per line.
#pragma once

#include <string>
#include <string_view>

namespace cmesh::logging {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Thread-safe; lines below the configured level are dropped.
void ConfigureLogging(const std::string& level, bool json);
void Log(LogLevel level, std::string_view message);

}  // namespace cmesh::logging
