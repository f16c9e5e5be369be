#include "connection_dispatch.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "downstream_connection.h"
#include "http2_downstream.h"
#include "tcp_proxy_connection.h"

namespace cmesh::proxy_core {
namespace {

constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// A request line longer than this without a verdict is not worth waiting for: not HTTP.
constexpr std::size_t kMaxSniffBytes = 8 * 1024;

// Holds a connection until its first bytes say which chain serves it.
class ProtocolSniffer final : public WorkerConnection, private event::IoWatcher {
 public:
  ProtocolSniffer(Worker& worker, int fd, DownstreamContext context, ConfigSnapshotPtr config,
                  const CompiledListener::Selection& selection, std::chrono::milliseconds timeout, bool continue_on_timeout)
      : worker_(worker),
        fd_(fd),
        context_(std::move(context)),
        config_(std::move(config)),
        selection_(selection),
        continue_on_timeout_(continue_on_timeout) {
    if (timeout.count() > 0) {
      timer_ = worker_.loop().RunAfter(timeout, [this] {
        timer_ = 0;
        if (continue_on_timeout_ && selection_.other) return Decide(selection_.other);
        Finish();
        ::close(fd_);
      });
    }
  }

  bool Register() {
    if (!worker_.loop().Add(fd_, false, this)) return false;
    worker_.Adopt(this);
    return true;
  }

  void Abort() override {
    Finish();
    ::close(fd_);
  }

 private:
  void OnReady(std::uint32_t) override {
    if (done_) return;
    char buffer[4096];
    bool eof = false;
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        read_.append(buffer, static_cast<std::size_t>(n));
        if (read_.size() >= kMaxSniffBytes || static_cast<std::size_t>(n) < sizeof buffer) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) {  // reset before anything was decided
        Finish();
        ::close(fd_);
        return;
      }
      eof = true;
      break;
    }
    Sniffed verdict = SniffProtocol(read_);
    if (verdict == Sniffed::kNeedMore && (eof || read_.size() >= kMaxSniffBytes)) verdict = Sniffed::kOther;
    if (verdict == Sniffed::kNeedMore) return;
    const ChainAction* action = verdict == Sniffed::kHttp ? selection_.http : selection_.other;
    if (!action) {
      Finish();
      ::close(fd_);
      return;
    }
    // An EOF read here is seen again by the handler (recv returns 0 once more).
    Decide(action);
  }

  void Decide(const ChainAction* action) {
    Finish();
    StartChain(worker_, fd_, std::move(context_), *action, std::move(read_));
  }

  // Leaves the loop and the worker; deleted from the loop afterwards.
  void Finish() {
    if (done_) return;
    done_ = true;
    if (timer_) worker_.loop().Cancel(timer_);
    timer_ = 0;
    worker_.loop().Remove(fd_);
    worker_.Forget(this);
    worker_.loop().Post([this, keep = config_] { delete this; });
  }

  Worker& worker_;
  int fd_;
  DownstreamContext context_;
  ConfigSnapshotPtr config_;  // keeps selection_'s chains alive
  CompiledListener::Selection selection_;
  bool continue_on_timeout_;
  std::string read_;
  event::TimerId timer_ = 0;
  bool done_ = false;
};

bool IsTokenChar(char c) {
  // RFC 9110 tchar; methods in practice are upper-case letters, but extension methods may differ.
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

Sniffed SniffProtocol(std::string_view bytes) {
  if (bytes.empty()) return Sniffed::kNeedMore;
  if (bytes.size() < kHttp2Preface.size() && kHttp2Preface.starts_with(bytes)) return Sniffed::kNeedMore;
  if (bytes.starts_with(kHttp2Preface)) return Sniffed::kHttp;
  // method SP request-target SP HTTP/1.x CRLF
  std::size_t i = 0;
  while (i < bytes.size() && IsTokenChar(bytes[i])) ++i;
  if (i == bytes.size()) return i <= 32 ? Sniffed::kNeedMore : Sniffed::kOther;
  if (i == 0 || bytes[i] != ' ') return Sniffed::kOther;
  const std::size_t target = i + 1;
  const std::size_t space = bytes.find(' ', target);
  const std::size_t line_end = bytes.find('\n', target);
  if (space == std::string_view::npos || (line_end != std::string_view::npos && line_end < space)) {
    if (line_end != std::string_view::npos) return Sniffed::kOther;
    for (std::size_t k = target; k < bytes.size(); ++k) {
      if (static_cast<unsigned char>(bytes[k]) <= 0x20 || bytes[k] == 0x7f) return Sniffed::kOther;
    }
    return Sniffed::kNeedMore;
  }
  if (space == target) return Sniffed::kOther;
  const std::string_view version = bytes.substr(space + 1);
  constexpr std::string_view kVersion = "HTTP/1.";
  if (version.size() < kVersion.size() + 1) {
    return kVersion.starts_with(version) ? Sniffed::kNeedMore : Sniffed::kOther;
  }
  if (!version.starts_with(kVersion) || (version[kVersion.size()] != '0' && version[kVersion.size()] != '1')) {
    return Sniffed::kOther;
  }
  return Sniffed::kHttp;
}

void StartChain(Worker& worker, int fd, DownstreamContext context, const ChainAction& action, std::string already_read) {
  context.chain = action.name;
  if (action.kind == ChainAction::Kind::kTcp) {
    return TcpProxyConnection::Start(worker, fd, context, action, std::move(already_read));
  }
  context.rds = action.rds;
  context.inline_routes = action.inline_routes;
  context.idle_timeout = action.http_idle_timeout;
  context.upgrades = action.upgrade_types;
  if (already_read.starts_with(kHttp2Preface)) {
    StartHttp2Downstream(worker, fd, std::move(context), std::move(already_read));
    return;
  }
  auto* connection = new DownstreamConnection(worker, fd, std::move(context), std::move(already_read));
  if (!connection->Register()) delete connection;  // its destructor closes fd
}

void DispatchAccepted(Worker& worker, int fd, DownstreamContext context, const event::Endpoint& local) {
  const ConfigSnapshotPtr& config = worker.config();
  if (!context.inbound && !context.redirected) {
    // Dialled the outbound listener itself: an explicit HTTP proxy client (routed by each
    // request's authority), also before any configuration arrived (it answers 503 then).
    auto* connection = new DownstreamConnection(worker, fd, std::move(context));
    if (!connection->Register()) delete connection;
    return;
  }
  if (!config) {
    ::close(fd);  // nothing to route with yet; iptables sends the client's retry here again
    return;
  }
  const CompiledListener::Selection selection = config->SelectChain(context.inbound, local, context.original_destination);
  if (selection.http && selection.other) {
    const CompiledListener* listener = config->ListenerAt(context.inbound, local.port);
    auto timeout = listener ? listener->sniff_timeout() : std::chrono::milliseconds(15000);
    const bool go_on = listener ? listener->continue_on_sniff_timeout() : false;
    // Sniffing is a listener filter of the listener that accepted the connection: its timeout
    // applies (Istio puts http_inspector and the timeout on virtualOutbound/virtualInbound).
    auto* sniffer = new ProtocolSniffer(worker, fd, std::move(context), config, selection, timeout, go_on);
    if (!sniffer->Register()) {
      sniffer->Abort();
    }
    return;
  }
  const ChainAction* action = selection.http ? selection.http : selection.other;
  if (!action) {
    ::close(fd);
    return;
  }
  StartChain(worker, fd, std::move(context), *action, {});
}

}  // namespace cmesh::proxy_core
