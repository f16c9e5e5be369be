// cmesh-grpc-bench: the gRPC upstream and the checking client of bench/proxy/run_h2_bench.
//
//   cmesh-grpc-bench serve --listen ADDR:PORT [--reply-bytes 256]
//       A grpc++ server (generic callback API: no generated code, any method) that answers every
//       unary call with a fixed reply of --reply-bytes bytes and status OK, and counts those
//       answers. The method /cmesh.bench.Bench/Count answers that count (decimal text) instead,
//       and is not counted. Prints "grpc listening on ADDR:PORT" once serving.
//   cmesh-grpc-bench call --target ADDR:PORT [--authority HOST[:PORT]] [--method /cmesh.bench.Bench/Echo]
//                         [--calls 20] [--request-bytes 64] [--reply-bytes 256]
//       A real gRPC client (grpc++'s generic stub): --calls unary calls one after the other;
//       each must end with status OK (grpc-status 0 in the trailers) and carry a reply of
//       --reply-bytes bytes. Prints "ok N" or the first failure; exit 0 only when all passed.
//   cmesh-grpc-bench count --target ADDR:PORT
//       Prints the server's count of OK answers.
//
// h2load counts a request as succeeded on HTTP 200, which a gRPC failure also is (its status is
// in the trailers): the benchmark compares h2load's successes with the server's count, and
// samples each path with `call`, so that a proxy answering errors cannot pass for a fast one.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr char kCountMethod[] = "/cmesh.bench.Bench/Count";
constexpr char kUsage[] =
    "usage: cmesh-grpc-bench serve --listen ADDR:PORT [--reply-bytes 256]\n"
    "       cmesh-grpc-bench call --target ADDR:PORT [--authority HOST[:PORT]] [--method M] [--calls 20]\n"
    "                             [--request-bytes 64] [--reply-bytes 256]\n"
    "       cmesh-grpc-bench count --target ADDR:PORT\n";

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return {};
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// The reply's bytes: a recognisable pattern, so a truncated or shifted reply shows.
std::string Pattern(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + i % 26);
  return out;
}

std::atomic<std::uint64_t> served_ok{0};

// One unary call: reads the request message, answers the fixed reply (or the count) with OK.
class UnaryReactor final : public grpc::ServerGenericBidiReactor {
 public:
  UnaryReactor(grpc::GenericCallbackServerContext* context, const grpc::ByteBuffer* reply)
      : context_(context), reply_(reply) {
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed without a message: not a unary call as the benchmark sends it.
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    if (context_->method() == kCountMethod) {
      count_reply_ = ToBuffer(std::to_string(served_ok.load(std::memory_order_relaxed)));
      StartWriteAndFinish(&count_reply_, grpc::WriteOptions(), grpc::Status::OK);
      return;
    }
    served_ok.fetch_add(1, std::memory_order_relaxed);
    StartWriteAndFinish(reply_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void OnDone() override { delete this; }

 private:
  grpc::GenericCallbackServerContext* context_;
  const grpc::ByteBuffer* reply_;
  grpc::ByteBuffer request_, count_reply_;
};

class FixedReplyService final : public grpc::CallbackGenericService {
 public:
  explicit FixedReplyService(std::size_t reply_bytes) : reply_(ToBuffer(Pattern(reply_bytes))) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    return new UnaryReactor(context, &reply_);
  }

 private:
  const grpc::ByteBuffer reply_;
};

int Serve(const std::string& listen, std::size_t reply_bytes) {
  FixedReplyService service(reply_bytes);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) {
    std::fprintf(stderr, "cmesh-grpc-bench: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::printf("grpc listening on %s:%d\n", host.c_str(), bound);
  std::fflush(stdout);
  server->Wait();
  return 0;
}

struct CallResult {
  grpc::Status status;
  std::string reply;
};

CallResult Unary(grpc::GenericStub& stub, const std::string& method, const std::string& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::ByteBuffer request_buffer = ToBuffer(request), reply;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer, &reply,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  CallResult result;
  result.status = done.get_future().get();
  result.reply = ToString(reply);
  return result;
}

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& target, const std::string& authority) {
  grpc::ChannelArguments args;
  if (!authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, authority);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

int Call(const std::string& target, const std::string& authority, const std::string& method, int calls,
         std::size_t request_bytes, std::size_t reply_bytes) {
  grpc::GenericStub stub(ChannelTo(target, authority));
  const std::string request(request_bytes, 'q');
  const std::string expected = Pattern(reply_bytes);
  for (int i = 0; i < calls; ++i) {
    CallResult result = Unary(stub, method, request);
    if (!result.status.ok()) {
      std::printf("call %d: status %d (%s)\n", i, static_cast<int>(result.status.error_code()),
                  result.status.error_message().c_str());
      return 1;
    }
    if (result.reply != expected) {
      std::printf("call %d: reply of %zu bytes differs from the expected %zu\n", i, result.reply.size(), expected.size());
      return 1;
    }
  }
  std::printf("ok %d\n", calls);
  return 0;
}

int Count(const std::string& target) {
  grpc::GenericStub stub(ChannelTo(target, ""));
  CallResult result = Unary(stub, kCountMethod, "");
  if (!result.status.ok()) {
    std::fprintf(stderr, "cmesh-grpc-bench: count: status %d (%s)\n", static_cast<int>(result.status.error_code()),
                 result.status.error_message().c_str());
    return 1;
  }
  std::printf("%s\n", result.reply.c_str());
  return 0;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string mode = argv[1];
  std::string listen, target, authority, method = "/cmesh.bench.Bench/Echo";
  int calls = 20;
  std::size_t request_bytes = 64, reply_bytes = 256;
  for (int i = 2; i < argc; i += 2) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "cmesh-grpc-bench: %s needs a value\n%s", argv[i], kUsage);
      return 2;
    }
    const std::string value = argv[i + 1];
    bool ok = true;
    if (name == "--listen") {
      listen = value;
    } else if (name == "--target") {
      target = value;
    } else if (name == "--authority") {
      authority = value;
    } else if (name == "--method") {
      method = value;
    } else if (name == "--calls") {
      ok = ParseNumber(value, &calls) && calls > 0;
    } else if (name == "--request-bytes") {
      ok = ParseNumber(value, &request_bytes);
    } else if (name == "--reply-bytes") {
      ok = ParseNumber(value, &reply_bytes);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "cmesh-grpc-bench: bad argument %s %s\n%s", argv[i], value.c_str(), kUsage);
      return 2;
    }
  }
  if (mode == "serve" && !listen.empty()) return Serve(listen, reply_bytes);
  if (mode == "call" && !target.empty()) return Call(target, authority, method, calls, request_bytes, reply_bytes);
  if (mode == "count" && !target.empty()) return Count(target);
  std::fputs(kUsage, stderr);
  return 2;
}
