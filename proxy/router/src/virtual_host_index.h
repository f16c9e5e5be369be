// Virtual host selection by :authority, in Envoy's order: exact domain, then the longest suffix
// wildcard ("*.foo.com"), then the longest prefix wildcard ("foo.*"), then "*". Case-insensitive;
// a wildcard matches at least one character.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cmesh::router {

class VirtualHostIndex {
 public:
  // Registers `domain` for virtual host number `vhost`. Like Envoy, refuses a domain listed twice
  // (in one virtual host or two).
  bool Add(const std::string& domain, int vhost, const std::string& where, std::string* error);

  // The virtual host for `authority`, or -1. With `ignore_port`, a ":port" suffix is dropped
  // first (ignore_port_in_host_matching); otherwise "host:port" must be listed as such.
  int Find(std::string_view authority, bool ignore_port) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, int, Hash, std::equal_to<>>;

  int FindLower(std::string_view host) const;

  Map exact_;
  std::map<std::size_t, Map, std::greater<>> suffixes_;  // by length, longest first
  std::map<std::size_t, Map, std::greater<>> prefixes_;
  int any_ = -1;
};

}  // namespace cmesh::router
