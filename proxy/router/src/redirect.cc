#include "compiled_table.h"

namespace cmesh::router {
namespace {

// Envoy's processRequestHost: the request's host keeps its port unless a port redirect is given,
// or the scheme changes and the port is the old scheme's default.
std::string_view RedirectHost(std::string_view host, std::string_view request_scheme,
                              std::string_view new_scheme, bool new_port) {
  if (host.empty()) return host;
  size_t port_start = host[0] == '[' ? host.rfind("]:") : host.rfind(':');
  if (port_start == std::string_view::npos) return host;
  if (host[0] == '[') port_start += 1;
  const std::string_view port = host.substr(port_start);
  bool remove = new_port;
  if (new_scheme != request_scheme) {
    remove |= request_scheme == "https" && port == ":443";
    remove |= request_scheme == "http" && port == ":80";
  }
  return remove ? host.substr(0, port_start) : host;
}

}  // namespace

std::string RedirectLocation(const RedirectSpec& spec, const RequestView& request,
                             std::size_t matched_length) {
  const std::string_view scheme = spec.scheme.empty() ? request.scheme : spec.scheme;
  const std::string_view host =
      spec.host.empty()
          ? RedirectHost(request.authority, request.scheme, scheme, !spec.port.empty())
          : std::string_view(spec.host);
  const std::string_view full = request.path;
  const std::string_view path = PathWithoutQuery(full);
  const std::string_view query = full.substr(path.size());  // "?..." (and fragment) or empty
  std::string out;
  out.reserve(scheme.size() + 3 + host.size() + spec.port.size() + full.size() + spec.path.size());
  out.append(scheme).append("://").append(host).append(spec.port);
  switch (spec.path_kind) {
    case RedirectSpec::PathKind::kPath:
      out += spec.path;
      // A query in path_redirect replaces the request's and survives strip_query.
      if (!spec.path_has_query && !spec.strip_query) out.append(query);
      break;
    case RedirectSpec::PathKind::kPrefix: {
      std::string_view rest = full.substr(std::min(matched_length, full.size()));
      if (spec.strip_query) rest = rest.substr(0, rest.find('?'));
      out.append(spec.path).append(rest);
      break;
    }
    case RedirectSpec::PathKind::kRegex: {
      std::string rewritten(path);
      RE2::GlobalReplace(&rewritten, *spec.regex, spec.substitution);
      out += rewritten;
      if (!spec.strip_query) out.append(query);
      break;
    }
    case RedirectSpec::PathKind::kKeep:
      out.append(spec.strip_query ? path : full);
      break;
  }
  return out;
}

}  // namespace cmesh::router
