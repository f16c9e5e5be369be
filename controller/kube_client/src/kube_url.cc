#include "cmesh/kube/kube_url.h"

namespace cmesh::kube {

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string GroupVersionPath(const ResourceKind& kind) {
  if (kind.group.empty()) return "/api/" + PercentEncode(kind.version);
  return "/apis/" + PercentEncode(kind.group) + "/" + PercentEncode(kind.version);
}

std::string CollectionPath(const ResourceKind& kind, const std::string& ns) {
  std::string path = GroupVersionPath(kind);
  if (kind.namespaced && !ns.empty()) path += "/namespaces/" + PercentEncode(ns);
  return path + "/" + PercentEncode(kind.plural);
}

std::string ObjectPath(const ResourceKind& kind, const std::string& ns, const std::string& name,
                       const std::string& subresource) {
  std::string path = CollectionPath(kind, ns) + "/" + PercentEncode(name);
  if (!subresource.empty()) path += "/" + PercentEncode(subresource);
  return path;
}

std::string WithQuery(std::string path, const std::vector<std::pair<std::string, std::string>>& params) {
  char separator = path.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    path.push_back(separator);
    path += PercentEncode(key);
    path.push_back('=');
    path += PercentEncode(value);
    separator = '&';
  }
  return path;
}

}  // namespace cmesh::kube
