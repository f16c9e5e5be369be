// cmesh-mesh-grpc-echo: the mesh test's gRPC app, an application that knows nothing of the mesh.
//
//   cmesh-mesh-grpc-echo serve --port PORT --name NAME
//       serves Echo.Chat on 0.0.0.0:PORT (plaintext HTTP/2); prints "echo listening on PORT".
//   cmesh-mesh-grpc-echo chat --target HOST:PORT --messages N
//       opens one Chat stream, sends message i and waits for its echo before sending i+1 (so both
//       directions carry data while the stream stays open), then half-closes and checks the
//       status and the trailers. Prints one line per echo and "ok N" or the failure; exit 0 only
//       when every echo came back in order and the stream ended with OK.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "echo.grpc.pb.h"

namespace {

using cmesh::meshtest::Echo;
using cmesh::meshtest::EchoMessage;

class EchoService final : public Echo::Service {
 public:
  explicit EchoService(std::string name) : name_(std::move(name)) {}

  grpc::Status Chat(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<EchoMessage, EchoMessage>* stream) override {
    EchoMessage in;
    int count = 0;
    while (stream->Read(&in)) {
      EchoMessage out;
      out.set_text(in.text());
      out.set_server(name_);
      if (!stream->Write(out)) break;
      ++count;
    }
    // A trailer the client checks: trailers must survive both sidecars.
    context->AddTrailingMetadata("x-echo-count", std::to_string(count));
    return grpc::Status::OK;
  }

 private:
  std::string name_;
};

int Serve(int port, const std::string& name) {
  EchoService service(name);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("0.0.0.0:" + std::to_string(port), grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) {
    std::fprintf(stderr, "cmesh-mesh-grpc-echo: cannot listen on port %d\n", port);
    return 1;
  }
  std::printf("echo listening on %d\n", bound);
  std::fflush(stdout);
  server->Wait();
  return 0;
}

int Chat(const std::string& target, int messages) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  std::unique_ptr<Echo::Stub> stub = Echo::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub->Chat(&context);
  for (int i = 0; i < messages; ++i) {
    EchoMessage out;
    out.set_text("message-" + std::to_string(i));
    if (!stream->Write(out)) {
      std::printf("write %d failed\n", i);
      break;
    }
    EchoMessage in;
    if (!stream->Read(&in)) {
      std::printf("no echo for message %d\n", i);
      break;
    }
    std::printf("echo %s from %s\n", in.text().c_str(), in.server().c_str());
    if (in.text() != out.text()) {
      std::printf("out of order: sent %s, got %s\n", out.text().c_str(), in.text().c_str());
      return 1;
    }
  }
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    std::printf("status %d: %s\n", static_cast<int>(status.error_code()), status.error_message().c_str());
    return 1;
  }
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("x-echo-count");
  const std::string count = it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
  if (count != std::to_string(messages)) {
    std::printf("trailer x-echo-count is '%s', expected %d\n", count.c_str(), messages);
    return 1;
  }
  std::printf("ok %d\n", messages);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: cmesh-mesh-grpc-echo serve --port PORT --name NAME\n"
      "       cmesh-mesh-grpc-echo chat --target HOST:PORT --messages N\n";
  if (argc < 2) {
    std::fputs(usage, stderr);
    return 2;
  }
  const std::string mode = argv[1];
  int port = 0, messages = 5;
  std::string name = "echo", target;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--port") {
      port = std::atoi(value.c_str());
    } else if (flag == "--name") {
      name = value;
    } else if (flag == "--target") {
      target = value;
    } else if (flag == "--messages") {
      messages = std::atoi(value.c_str());
    } else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  if (mode == "serve" && port > 0) return Serve(port, name);
  if (mode == "chat" && !target.empty() && messages > 0) return Chat(target, messages);
  std::fputs(usage, stderr);
  return 2;
}
