// Hands the validation results of VirtualServices and DestinationRules (from the Kubernetes
// source) to the StatusWriter, on a thread of its own, and only while this replica leads.
//
// It keeps the latest result per object; a replica that becomes leader writes every object it
// knows (the writer skips those already right). A deleted object is forgotten.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cmesh/kube_source/kube_source.h"
#include "cmesh/kube_status/status_writer.h"

namespace cmesh::pilot {

class StatusReporter {
 public:
  explicit StatusReporter(kube_status::StatusWriter& writer);
  ~StatusReporter();
  StatusReporter(const StatusReporter&) = delete;
  StatusReporter& operator=(const StatusReporter&) = delete;

  void Update(const std::vector<kube_source::ValidatedObject>& objects);
  void SetLeader(bool leader);

  struct Stats {
    std::uint64_t written = 0;
    std::uint64_t unchanged = 0;
    std::uint64_t failed = 0;
  };
  Stats stats() const;

 private:
  void Run();

  kube_status::StatusWriter& writer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, kube_source::ValidatedObject> latest_;  // by kind/ns/name
  std::set<std::string> pending_;
  bool leader_ = false;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace cmesh::pilot
