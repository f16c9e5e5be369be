// The request-target forms of RFC 9112 section 3.2 and what a proxy takes from them: the
// authority to route on and the path to send upstream.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "cmesh/http1/message.h"

namespace cmesh::http1 {

struct RoutingTarget {
  std::string_view authority;  // host[:port] as the client gave it (absolute URI, else Host)
  std::string_view host;       // authority without the port; IPv6 literals keep their brackets
  std::uint16_t port = 80;     // the authority's port, else the scheme's default (http 80, https 443)
  std::string_view path;       // origin-form path and query ("/" when the absolute URI had none)
  bool absolute_form = false;  // "GET http://ratings:9080/x HTTP/1.1" (an explicit proxy request)
};

// Reads the target of `head`: origin-form ("/x?y") with the Host header, or absolute-form
// ("http://host:port/x"), whose authority wins over Host (RFC 9112 section 3.2.2). nullopt for
// forms a forward HTTP proxy does not serve here (authority-form CONNECT, asterisk-form, other
// schemes, a bad port), with *why.
std::optional<RoutingTarget> ReadRoutingTarget(const RequestHead& head, std::string_view* why);

// Splits "host:port" / "[v6]:port" / "host"; false for a malformed port.
bool SplitAuthority(std::string_view authority, std::uint16_t default_port, std::string_view* host,
                    std::uint16_t* port);

}  // namespace cmesh::http1
