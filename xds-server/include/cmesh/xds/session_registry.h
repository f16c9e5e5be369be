// The connected streams, for /debug/syncz and the connected-proxies gauge. Sessions are held
// weakly: the transport owns them, and one that is gone simply drops out of the listing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cmesh/xds/stream_session.h"

namespace cmesh::xds {

struct SessionSummary {
  std::uint64_t id;
  std::string group_key;
  StreamStatus status;
};

class SessionRegistry {
 public:
  // Returns the id to Remove() with when the stream ends.
  std::uint64_t Add(std::weak_ptr<const SessionInfo> session);
  void Remove(std::uint64_t id);
  std::size_t size() const;
  // A consistent copy per live session, ordered by id (connection order).
  std::vector<SessionSummary> List() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, std::weak_ptr<const SessionInfo>> sessions_;
};

}  // namespace cmesh::xds
