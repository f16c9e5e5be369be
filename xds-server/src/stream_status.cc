#include "cmesh/xds/stream_status.h"

namespace cmesh::xds {

void RecordReply(StreamStatus& status, ResourceType type, const std::string& nonce,
                 const google::rpc::Status* error_detail, TimePoint now, StreamCallbacks* callbacks) {
  TypeStatus& type_status = status.types[Index(type)];
  if (error_detail) {
    ++type_status.nacks;
    status.last_nack = NackRecord{type, type_status.sent_version, nonce, error_detail->message(), now};
    if (callbacks) callbacks->OnNack(status, *status.last_nack);
    return;
  }
  ++type_status.acks;
  type_status.acked_version = type_status.sent_version;
  type_status.acked_at = now;
  if (callbacks) callbacks->OnAck(status, type, type_status.acked_version, now);
}

}  // namespace cmesh::xds
