#include "cmesh/proxy_init/port_list.h"

#include <algorithm>

namespace cmesh::proxy_init {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::variant<std::uint16_t, std::string> ParsePort(std::string_view text) {
  const std::string error = "\"" + std::string(text) + "\" is not a port (1-65535)";
  if (text.empty() || text.size() > 5) return error;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return error;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return error;
  return static_cast<std::uint16_t>(value);
}

std::variant<PortList, std::string> ParsePortList(std::string_view text, bool allow_all) {
  PortList list;
  if (Trim(text).empty()) return list;
  if (Trim(text) == "*") {
    if (!allow_all) return std::string("\"*\" is not allowed here: list the ports");
    list.all = true;
    return list;
  }
  while (true) {
    auto comma = text.find(',');
    std::string_view item = Trim(text.substr(0, comma));
    auto port = ParsePort(item);
    if (auto* error = std::get_if<std::string>(&port)) {
      if (item == "*") return std::string("\"*\" must be the whole list, not one of its items");
      return *error;
    }
    auto value = std::get<std::uint16_t>(port);
    if (std::find(list.ports.begin(), list.ports.end(), value) == list.ports.end()) {
      list.ports.push_back(value);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return list;
}

}  // namespace cmesh::proxy_init
