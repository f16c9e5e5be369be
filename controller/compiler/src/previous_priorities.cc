#include "previous_priorities.h"

#include "envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.pb.h"

namespace cmesh::compiler {

void SetPreviousPrioritiesRetry(envoy::config::route::v3::RetryPolicy* policy) {
  auto* priority = policy->mutable_retry_priority();
  priority->set_name("envoy.retry_priorities.previous_priorities");
  envoy::extensions::retry::priority::previous_priorities::v3::PreviousPrioritiesConfig config;
  config.set_update_frequency(2);
  priority->mutable_typed_config()->PackFrom(config);
}

}  // namespace cmesh::compiler
