#include "cmesh/http2/client_session.h"

#include <nghttp2/nghttp2.h>

namespace cmesh::http2 {

ClientSession::ClientSession(const Settings& settings, ClientCallbacks* callbacks)
    : Session(settings, /*server=*/false, callbacks), callbacks_(callbacks) {}

std::uint32_t ClientSession::PeerMaxConcurrentStreams() {
  if (session() == nullptr) return 0;
  return nghttp2_session_get_remote_settings(session(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool ClientSession::CanSubmitRequest() {
  if (session() == nullptr || failed()) return false;
  if (nghttp2_session_check_request_allowed(session()) == 0) return false;
  return ActiveStreams() < PeerMaxConcurrentStreams();
}

std::int32_t ClientSession::SubmitRequest(const HeaderList& headers, bool end_stream) {
  // nghttp2 would queue a stream beyond the peer's limit; refusing lets a pool open another
  // connection instead of waiting behind this one.
  if (!CanSubmitRequest()) return -1;
  std::int32_t id = -1;
  if (!SubmitHeadersWithBody(0, headers, end_stream, /*request=*/true, &id)) return -1;
  return id;
}

void ClientSession::DeliverHeaders(std::int32_t stream_id, Stream& stream, HeaderList headers, bool end_stream) {
  const std::string_view status = FindHeader(headers, ":status");
  if (status.size() == 3 && status[0] == '1' && !end_stream) {
    callbacks_->OnInformationalHeaders(stream_id, std::move(headers));
    return;
  }
  stream.final_headers = true;
  callbacks_->OnResponseHeaders(stream_id, std::move(headers), end_stream);
}

}  // namespace cmesh::http2
