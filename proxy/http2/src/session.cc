#include "cmesh/http2/session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace cmesh::http2 {

// The nghttp2 callbacks, as static functions that reach the Session through user_data. A friend
// of Session so the C callbacks can see its streams without making them public.
struct SessionGlue {
  static Session& Of(void* user_data) { return *static_cast<Session*>(user_data); }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Session& self = Of(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    const std::int32_t id = frame->hd.stream_id;
    Session::Stream* stream = self.Find(id);
    // A server learns of a stream through its request HEADERS; a client only of streams it opened.
    if (stream == nullptr && frame->headers.cat == NGHTTP2_HCAT_REQUEST) stream = &self.Open(id);
    if (stream == nullptr) return 0;
    stream->recv_headers.clear();
    stream->recv_header_bytes = 0;
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
                      const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* user_data) {
    Session& self = Of(user_data);
    Session::Stream* stream = self.Find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    // RFC 9113 §6.5.2 counts 32 bytes of overhead per field. Beyond the limit the stream is reset
    // (nghttp2 answers a temporal failure with RST_STREAM), the connection lives on.
    stream->recv_header_bytes += namelen + valuelen + 32;
    if (stream->recv_header_bytes > self.settings_.max_header_list_size) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    stream->recv_headers.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                                      std::string(reinterpret_cast<const char*>(value), valuelen));
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Session& self = Of(user_data);
    const std::int32_t id = frame->hd.stream_id;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        Session::Stream* stream = self.Find(id);
        if (stream == nullptr) return 0;
        HeaderList headers = std::move(stream->recv_headers);
        stream->recv_headers.clear();
        if (!stream->final_headers) {
          self.DeliverHeaders(id, *stream, std::move(headers), end_stream);
        } else if (stream->visible) {
          self.callbacks_->OnTrailers(id, std::move(headers));
        }
        return 0;
      }
      case NGHTTP2_DATA: {
        Session::Stream* stream = self.Find(id);
        if (end_stream && stream != nullptr && stream->visible) self.callbacks_->OnData(id, {}, true);
        return 0;
      }
      case NGHTTP2_GOAWAY:
        self.callbacks_->OnGoaway(frame->goaway.last_stream_id, frame->goaway.error_code);
        return 0;
      default:
        return 0;
    }
  }

  static int OnDataChunk(nghttp2_session* session, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                         std::size_t len, void* user_data) {
    Session& self = Of(user_data);
    Session::Stream* stream = self.Find(id);
    if (stream == nullptr || !stream->visible) {
      // Nobody will forward these bytes: give the window back at once.
      nghttp2_session_consume(session, id, len);
      return 0;
    }
    stream->unconsumed += len;
    self.callbacks_->OnData(id, std::string_view(reinterpret_cast<const char*>(data), len), false);
    return 0;
  }

  static int OnStreamClose(nghttp2_session* session, std::int32_t id, std::uint32_t error_code, void* user_data) {
    Session& self = Of(user_data);
    auto it = self.streams_.find(id);
    if (it == self.streams_.end()) return 0;
    // Received bytes the caller had not consumed still hold the connection window; the stream
    // window dies with the stream.
    if (it->second.unconsumed > 0) nghttp2_session_consume_connection(session, it->second.unconsumed);
    const bool visible = it->second.visible;
    self.streams_.erase(it);
    if (visible) self.callbacks_->OnStreamClosed(id, error_code);
    return 0;
  }

  static int OnFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Session& self = Of(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR && !self.local_goaway_) {
      std::string reason =
          std::string("protocol error, sent GOAWAY ") + nghttp2_http2_strerror(frame->goaway.error_code);
      if (!self.last_library_error_.empty()) reason += ": " + self.last_library_error_;
      self.Fail(std::move(reason));
    }
    return 0;
  }

  static int OnError(nghttp2_session*, int, const char* msg, std::size_t len, void* user_data) {
    Of(user_data).last_library_error_.assign(msg, len);
    return 0;
  }

  // The data source of every stream with a body: the stream's send buffer, then EOF (with
  // trailers, if any) once the caller ended its side, "deferred" while it is empty.
  static ssize_t Read(nghttp2_session* session, std::int32_t id, std::uint8_t* buf, std::size_t length,
                      std::uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    Session& self = Of(user_data);
    Session::Stream* stream = self.Find(id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::size_t available = stream->send_buffer.size() - stream->send_offset;
    const std::size_t n = std::min(length, available);
    if (n > 0) std::memcpy(buf, stream->send_buffer.data() + stream->send_offset, n);
    stream->send_offset += n;
    const bool drained = stream->send_offset == stream->send_buffer.size();
    if (drained) {
      stream->send_buffer.clear();
      stream->send_offset = 0;
    } else if (stream->send_offset > 64 * 1024 && stream->send_offset * 2 > stream->send_buffer.size()) {
      stream->send_buffer.erase(0, stream->send_offset);
      stream->send_offset = 0;
    }
    if (drained && stream->send_end) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      if (stream->has_trailers) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> nva = ToNv(stream->trailers);
        if (nghttp2_submit_trailer(session, id, nva.data(), nva.size()) != 0) {
          return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
      }
      return static_cast<ssize_t>(n);
    }
    if (n == 0) {
      stream->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    if (drained) self.callbacks_->OnSendBufferDrained(id);
    return static_cast<ssize_t>(n);
  }

  static std::vector<nghttp2_nv> ToNv(const HeaderList& headers) {
    std::vector<nghttp2_nv> nva;
    nva.reserve(headers.size());
    for (const auto& [name, value] : headers) {
      // nghttp2 copies names and values when submitting (no NO_COPY flags).
      nva.push_back(nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                               reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                               value.size(), NGHTTP2_NV_FLAG_NONE});
    }
    return nva;
  }
};

Session::Session(const Settings& settings, bool server, StreamCallbacks* callbacks)
    : callbacks_(callbacks), settings_(settings) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_option* option = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&option) != 0) {
    if (cbs != nullptr) nghttp2_session_callbacks_del(cbs);
    Fail("out of memory creating the HTTP/2 session");
    return;
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &SessionGlue::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &SessionGlue::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &SessionGlue::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &SessionGlue::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &SessionGlue::OnStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &SessionGlue::OnFrameSend);
  nghttp2_session_callbacks_set_error_callback2(cbs, &SessionGlue::OnError);
  // Window updates only when the caller consumed: a slow reader on the other side of the proxy
  // then slows this peer down instead of growing our buffers.
  nghttp2_option_set_no_auto_window_update(option, 1);
  const int rv = server ? nghttp2_session_server_new2(&session_, cbs, this, option)
                        : nghttp2_session_client_new2(&session_, cbs, this, option);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_option_del(option);
  if (rv != 0) {
    session_ = nullptr;
    Fail(std::string("creating the HTTP/2 session: ") + nghttp2_strerror(rv));
    return;
  }
  const std::uint32_t frame_size = std::clamp<std::uint32_t>(settings.max_frame_size, 16384, 16777215);
  std::vector<nghttp2_settings_entry> entries = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, std::min<std::uint32_t>(settings.initial_stream_window, 0x7fffffff)},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, frame_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list_size},
  };
  if (!server) entries.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries.data(), entries.size());
  if (settings.initial_connection_window > 65535) {
    const auto window = std::min<std::uint32_t>(settings.initial_connection_window, 0x7fffffff);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, static_cast<std::int32_t>(window));
  }
}

Session::~Session() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

Session::Stream* Session::Find(std::int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : &it->second;
}

Session::Stream& Session::Open(std::int32_t stream_id) { return streams_[stream_id]; }

void Session::Fail(std::string reason) {
  if (failed_) return;  // the first reason is the cause; later ones are consequences
  failed_ = true;
  error_ = std::move(reason);
}

bool Session::Receive(std::string_view bytes) {
  if (session_ == nullptr || failed_) return false;
  if (in_library_ > 0) return false;  // re-entrant Receive from a callback is a caller bug
  ++in_library_;
  const ssize_t rv =
      nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  --in_library_;
  if (rv < 0) {
    std::string reason = std::string("HTTP/2 receive failed: ") + nghttp2_strerror(static_cast<int>(rv));
    if (!last_library_error_.empty()) reason += ": " + last_library_error_;
    Fail(std::move(reason));
    nghttp2_session_terminate_session(session_,
                                      rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
  }
  // Serialize at once: acknowledgements and window updates are produced, and a GOAWAY nghttp2
  // decided on while reading is seen (OnFrameSend) before this call returns.
  Flush();
  return !failed_;
}

void Session::Flush() {
  if (session_ == nullptr || in_library_ > 0) return;
  ++in_library_;
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      Fail(std::string("HTTP/2 send failed: ") + nghttp2_strerror(static_cast<int>(n)));
      break;
    }
    if (n == 0) break;
    output_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  --in_library_;
}

std::string Session::TakeOutput() {
  Flush();
  std::string out;
  out.swap(output_);
  return out;
}

bool Session::HasOutput() {
  return !output_.empty() || (session_ != nullptr && nghttp2_session_want_write(session_) != 0);
}

bool Session::Done() {
  if (!output_.empty()) return false;
  if (session_ == nullptr) return true;
  if (nghttp2_session_want_write(session_) != 0) return false;
  return failed_ || nghttp2_session_want_read(session_) == 0;
}

bool Session::SubmitHeadersWithBody(std::int32_t stream_id, const HeaderList& headers, bool end_stream, bool request,
                                    std::int32_t* new_stream_id) {
  if (session_ == nullptr || failed_) return false;
  std::vector<nghttp2_nv> nva = SessionGlue::ToNv(headers);
  nghttp2_data_provider provider{};
  provider.read_callback = &SessionGlue::Read;
  nghttp2_data_provider* body = end_stream ? nullptr : &provider;
  if (request) {
    const std::int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), body, nullptr);
    if (id < 0) return false;
    if (new_stream_id != nullptr) *new_stream_id = id;
    Stream& stream = Open(id);
    stream.visible = true;
    stream.has_data_source = !end_stream;
    stream.send_end = end_stream;
    return true;
  }
  Stream* stream = Find(stream_id);
  if (stream == nullptr || !stream->visible) return false;
  if (nghttp2_submit_response(session_, stream_id, nva.data(), nva.size(), body) != 0) return false;
  stream->has_data_source = !end_stream;
  stream->send_end = end_stream;
  return true;
}

bool Session::SubmitInterim(std::int32_t stream_id, const HeaderList& headers) {
  if (session_ == nullptr || failed_) return false;
  Stream* stream = Find(stream_id);
  if (stream == nullptr || !stream->visible) return false;
  std::vector<nghttp2_nv> nva = SessionGlue::ToNv(headers);
  return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream_id, nullptr, nva.data(), nva.size(), nullptr) >= 0;
}

bool Session::SubmitData(std::int32_t stream_id, std::string_view data, bool end_stream) {
  if (session_ == nullptr || failed_) return false;
  Stream* stream = Find(stream_id);
  if (stream == nullptr || !stream->has_data_source || stream->send_end) return false;
  stream->send_buffer.append(data);
  stream->send_end = end_stream;
  if (stream->deferred && (!data.empty() || end_stream)) {
    stream->deferred = false;
    nghttp2_session_resume_data(session_, stream_id);
  }
  return true;
}

bool Session::SubmitTrailers(std::int32_t stream_id, const HeaderList& trailers) {
  if (session_ == nullptr || failed_) return false;
  Stream* stream = Find(stream_id);
  if (stream == nullptr || !stream->has_data_source || stream->send_end) return false;
  stream->has_trailers = true;
  stream->trailers = trailers;
  stream->send_end = true;
  if (stream->deferred) {
    stream->deferred = false;
    nghttp2_session_resume_data(session_, stream_id);
  }
  return true;
}

bool Session::ResetStream(std::int32_t stream_id, std::uint32_t error_code) {
  if (session_ == nullptr || failed_) return false;
  Stream* stream = Find(stream_id);
  if (stream == nullptr) return false;
  stream->send_buffer.clear();
  stream->send_offset = 0;
  return nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code) == 0;
}

void Session::Goaway(std::uint32_t error_code) {
  if (session_ == nullptr || failed_) return;
  local_goaway_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_), error_code,
                        nullptr, 0);
}

void Session::Consume(std::int32_t stream_id, std::size_t bytes) {
  if (session_ == nullptr) return;
  Stream* stream = Find(stream_id);
  if (stream == nullptr) return;  // closed: its bytes were given back then
  const std::size_t n = std::min(bytes, stream->unconsumed);
  if (n == 0) return;
  stream->unconsumed -= n;
  nghttp2_session_consume(session_, stream_id, n);
}

std::size_t Session::BufferedBytes(std::int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? 0 : it->second.send_buffer.size() - it->second.send_offset;
}

std::size_t Session::UnconsumedBytes(std::int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? 0 : it->second.unconsumed;
}

}  // namespace cmesh::http2
