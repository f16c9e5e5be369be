#include "cmesh/kube/watch_stream.h"

namespace cmesh::kube {

bool WatchLineBuffer::NextLine(std::string* line) {
  size_t newline = pending_.find('\n', start_);
  if (newline == std::string::npos) {
    // Drop what was handed out already, so a long watch does not keep every event in memory.
    if (start_ > 0) {
      pending_.erase(0, start_);
      start_ = 0;
    }
    return false;
  }
  line->assign(pending_, start_, newline - start_);
  if (!line->empty() && line->back() == '\r') line->pop_back();
  start_ = newline + 1;
  return true;
}

bool WatchLineBuffer::HasPartialLine() const {
  return pending_.find_first_not_of(" \t\r\n", start_) != std::string::npos;
}

DecodedWatchLine DecodeWatchLine(std::string_view line) {
  DecodedWatchLine out;
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    out.kind = DecodedWatchLine::Kind::kBlank;
    return out;
  }
  nlohmann::json event = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded() || !event.is_object()) {
    out.problem = "a watch event that is not a JSON object";
    return out;
  }
  auto type = event.find("type");
  auto object = event.find("object");
  if (type == event.end() || !type->is_string() || object == event.end() || !object->is_object()) {
    out.problem = "a watch event without a string `type` and an object `object`";
    return out;
  }
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "ERROR") {
    out.kind = DecodedWatchLine::Kind::kError;
    out.status = std::move(*object);
    return out;
  }
  if (name == "ADDED") {
    out.event.type = WatchEventType::kAdded;
  } else if (name == "MODIFIED") {
    out.event.type = WatchEventType::kModified;
  } else if (name == "DELETED") {
    out.event.type = WatchEventType::kDeleted;
  } else if (name == "BOOKMARK") {
    out.event.type = WatchEventType::kBookmark;
  } else {
    out.problem = "a watch event of unknown type \"" + name + "\"";
    return out;
  }
  out.kind = DecodedWatchLine::Kind::kEvent;
  out.event.object = std::move(*object);
  return out;
}

}  // namespace cmesh::kube
