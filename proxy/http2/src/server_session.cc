#include "cmesh/http2/server_session.h"

namespace cmesh::http2 {

ServerSession::ServerSession(const Settings& settings, ServerCallbacks* callbacks)
    : Session(settings, /*server=*/true, callbacks), callbacks_(callbacks) {}

bool ServerSession::SubmitResponse(std::int32_t stream_id, const HeaderList& headers, bool end_stream) {
  return SubmitHeadersWithBody(stream_id, headers, end_stream, /*request=*/false, nullptr);
}

bool ServerSession::SubmitInformational(std::int32_t stream_id, const HeaderList& headers) {
  return SubmitInterim(stream_id, headers);
}

void ServerSession::DeliverHeaders(std::int32_t stream_id, Stream& stream, HeaderList headers, bool end_stream) {
  stream.final_headers = true;
  stream.visible = true;
  callbacks_->OnRequestHeaders(stream_id, std::move(headers), end_stream);
}

}  // namespace cmesh::http2
