#include "cmesh/proxy_core/route_table_cache.h"

#include <functional>
#include <string_view>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace cmesh::proxy_core {
namespace {

// Map fields (typed_per_filter_config) make the default serialisation order unspecified.
std::string Content(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

std::uint64_t Fnv1a(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

}  // namespace

std::shared_ptr<const router::RouteTable> RouteTableCache::Get(const envoy::config::route::v3::RouteConfiguration& config,
                                                               std::string* error) {
  const std::string serialised = Content(config);
  // std::hash of a string is MurmurHash2 in libstdc++: independent of FNV.
  const Fingerprint content{serialised.size(), Fnv1a(serialised), std::hash<std::string_view>{}(serialised)};
  std::lock_guard lock(mutex_);
  Entry& entry = entries_[config.name()];
  if (entry.content != content || (!entry.table && entry.error.empty())) {
    entry.content = content;
    entry.error.clear();
    entry.table = router::RouteTable::Build(config, &entry.error);
  }
  if (!entry.table) *error = entry.error;
  return entry.table;
}

}  // namespace cmesh::proxy_core
