#include "cmesh/model/config_set.h"

#include <iterator>

namespace cmesh::model {
namespace {
template <typename T>
void Append(std::vector<T>& into, std::vector<T>&& from) {
  if (into.empty()) {
    into = std::move(from);
    return;
  }
  into.insert(into.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}
}  // namespace

void ConfigSet::Merge(ConfigSet other) {
  Append(virtual_services, std::move(other.virtual_services));
  Append(destination_rules, std::move(other.destination_rules));
  Append(services, std::move(other.services));
  Append(pods, std::move(other.pods));
  Append(endpoint_slices, std::move(other.endpoint_slices));
  Append(endpoints, std::move(other.endpoints));
  Append(namespaces, std::move(other.namespaces));
}

}  // namespace cmesh::model
