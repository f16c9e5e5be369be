// cmesh-proxy's ADS client: one state-of-the-world stream to the control plane on a thread of its
// own (never a worker's), reconnecting with jittered backoff, delivering complete configurations
// through a callback. The protocol rules are AdsSession's; this class owns the gRPC side.
//
// Threading: Start() spawns the client thread; OnConfig runs on it (keep it short: the proxy
// builds its snapshot and posts it to the workers). Status() and Current() are safe from any
// thread. Stop() (or the destructor) ends the stream and joins.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cmesh/xds_client/ads_session.h"
#include "cmesh/xds_client/resource_validator.h"
#include "cmesh/xds_client/xds_state.h"
#include "envoy/config/core/v3/base.pb.h"

namespace cmesh::xds_client {

struct XdsClientOptions {
  std::string server;   // HOST:PORT (gRPC target syntax: "[::1]:15010" works too), plaintext
  std::string node_id;  // Istio's sidecar~IP~POD.NS~NS.svc.cluster.local
  std::string node_cluster;  // node.cluster (Istio: the workload's service cluster); optional
  // Node metadata, under Istio's keys: NAMESPACE, LABELS (a struct), INSTANCE_IPS ("ip1,ip2").
  std::string namespace_name;
  std::map<std::string, std::string> labels;
  std::vector<std::string> instance_ips;
  // The proxy's version, as metadata CMESH_VERSION (Istio's ISTIO_VERSION) and user_agent_version.
  std::string proxy_version;

  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_max{30'000};
  // How long a newly referenced EDS/RDS name may hold a new configuration back (Envoy's
  // initial_fetch_timeout).
  std::chrono::milliseconds warming_timeout{15'000};
  // HTTP/2 pings on the stream, to notice a control plane whose host vanished. The xDS server
  // accepts pings every 10 s and more.
  std::chrono::milliseconds keepalive_time{30'000};
  std::chrono::milliseconds keepalive_timeout{10'000};
  // Big meshes send multi-megabyte LDS/CDS responses; gRPC's default limit is 4 MiB.
  int max_receive_message_bytes = 64 << 20;

  // Null: DefaultResourceValidator.
  std::shared_ptr<const ResourceValidator> validator;
  // Injectable for tests. clock: timestamps and warming deadlines (steady_clock::now when null);
  // random: uniform in [0, 1) for the backoff jitter (a seeded generator when null).
  std::function<TimePoint()> clock;
  std::function<double()> random;
  // One line per event worth a log (stream ends, NACKs, deliveries with holes); silent when null.
  std::function<void(std::string_view)> log;
};

// What the admin page and the metrics show.
struct XdsClientStatus {
  std::string server;
  // A stream is open and the server has answered on it.
  bool connected = false;
  std::array<TypeStatus, kXdsTypeCount> types;  // by Index(XdsType)
  std::optional<NackRecord> last_nack;
  std::uint64_t acks = 0;
  std::uint64_t nacks = 0;
  std::uint64_t streams = 0;     // streams opened
  std::uint64_t reconnects = 0;  // streams opened after one ended
  std::uint64_t malformed_responses = 0;  // responses that did not parse (each ended its stream)
  std::uint64_t ignored_responses = 0;    // of a type URL the client does not handle
  std::string last_stream_error;          // how the last stream ended ("UNAVAILABLE: ...")
  // The last configuration delivered: its generation (0: none yet) and the names it lacks.
  std::uint64_t generation = 0;
  std::vector<std::string> missing;

  const TypeStatus& type(XdsType t) const { return types[Index(t)]; }
};

class XdsClient {
 public:
  using ConfigCallback = std::function<void(XdsStatePtr)>;

  XdsClient(XdsClientOptions options, ConfigCallback on_config);
  ~XdsClient();
  XdsClient(const XdsClient&) = delete;
  XdsClient& operator=(const XdsClient&) = delete;

  void Start();
  // Ends the stream (or the backoff wait) and joins the client thread. Idempotent; not to be
  // called from OnConfig, which runs on that thread.
  void Stop();

  XdsClientStatus Status() const;
  // The last configuration delivered (null before the first); kept across disconnects.
  XdsStatePtr Current() const;

  // The node the client sends (exposed for tests and /config_dump's bootstrap section).
  static envoy::config::core::v3::Node BuildNode(const XdsClientOptions& options);

 private:
  class Runner;  // the gRPC side, on the client thread

  XdsClientOptions options_;
  ConfigCallback on_config_;
  std::unique_ptr<Runner> runner_;
  std::thread thread_;
  std::mutex start_mutex_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace cmesh::xds_client
