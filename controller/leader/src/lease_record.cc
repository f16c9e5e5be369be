#include "cmesh/leader/lease_record.h"

#include <cstdio>
#include <ctime>

namespace cmesh::leader {
namespace {

std::string StringField(const nlohmann::json& spec, const char* key) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int IntField(const nlohmann::json& spec, const char* key) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_number_integer() ? it->get<int>() : 0;
}

}  // namespace

LeaseRecord LeaseRecordFromLease(const nlohmann::json& lease) {
  LeaseRecord record;
  if (!lease.is_object()) return record;
  auto spec_it = lease.find("spec");
  if (spec_it == lease.end() || !spec_it->is_object()) return record;
  const nlohmann::json& spec = *spec_it;
  record.holder_identity = StringField(spec, "holderIdentity");
  record.lease_duration_seconds = IntField(spec, "leaseDurationSeconds");
  record.acquire_time = StringField(spec, "acquireTime");
  record.renew_time = StringField(spec, "renewTime");
  record.lease_transitions = IntField(spec, "leaseTransitions");
  return record;
}

nlohmann::json LeaseRecordToSpec(const LeaseRecord& record) {
  nlohmann::json spec = nlohmann::json::object();
  if (!record.holder_identity.empty()) spec["holderIdentity"] = record.holder_identity;
  if (record.lease_duration_seconds > 0) spec["leaseDurationSeconds"] = record.lease_duration_seconds;
  if (!record.acquire_time.empty()) spec["acquireTime"] = record.acquire_time;
  if (!record.renew_time.empty()) spec["renewTime"] = record.renew_time;
  spec["leaseTransitions"] = record.lease_transitions;
  return spec;
}

std::string FormatMicroTime(std::chrono::system_clock::time_point time) {
  auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch());
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  long long micros = (since_epoch - seconds).count();
  if (micros < 0) {  // before 1970: borrow a second so the fraction stays positive
    micros += 1000000;
    seconds -= std::chrono::seconds(1);
  }
  std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micros);
  return buffer;
}

}  // namespace cmesh::leader
