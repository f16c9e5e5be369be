// What the router looks at in a request: views into the connection's buffers, valid for the call.
#pragma once

#include <span>
#include <string_view>

#include "cmesh/http1/message.h"

namespace cmesh::router {

struct RequestView {
  std::string_view method;
  std::string_view path;       // origin-form request target, query string included
  std::string_view authority;  // Host header, or the authority of an absolute-form target
  std::string_view scheme = "http";  // what Envoy calls the forwarded proto (redirects use it)
  // The request's header fields as received. Header matchers see the pseudo-headers :method,
  // :path, :authority and :scheme from the fields above; like Envoy, which turns an HTTP/1 Host
  // header into :authority, a matcher on "host" does not see the Host header.
  std::span<const http1::Header> headers;
};

}  // namespace cmesh::router
