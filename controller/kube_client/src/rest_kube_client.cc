// The only file that knows cpprestsdk. Every exception it (or JSON parsing) throws is caught here
// and becomes a KubeError; nothing escapes to the callers of KubeClient.
#include "cmesh/kube/rest_kube_client.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <system_error>
#include <thread>

#include <cpprest/http_client.h>

#include "cmesh/kube/kube_errors.h"
#include "cmesh/kube/kube_url.h"
#include "cmesh/kube/token_source.h"
#include "cmesh/kube/watch_stream.h"
#include "tls_context.h"

namespace cmesh::kube {
namespace {

namespace http = web::http;
using web::http::client::http_client;
using web::http::client::http_client_config;

struct Answer {
  int status = 0;  // 0: no HTTP answer
  std::string body;
  std::string retry_after;
  std::string transport_error;
  bool maybe_sent = true;  // false when the request certainly never reached the server
  int attempts = 1;
};

struct Request {
  Request(KubeCall call_in, http::method method_in) : call(std::move(call_in)), method(std::move(method_in)) {}
  KubeCall call;
  http::method method;
  std::string path;  // percent-encoded, with its query
  std::optional<std::string> body;
  std::string content_type = "application/json";
  bool idempotent = false;
};

// cpprestsdk reports a failed connect as host_unreachable (it maps connection_refused to it), a
// failed resolve, handshake or write by message. In all of these the server cannot have received
// the whole request, so it cannot have acted on it. Writes fail this way on a pooled connection
// whose server went away (an apiserver restart): the retry opens a new one.
bool NeverSent(const http::http_exception& e) {
  int code = e.error_code().value();
  if (code == static_cast<int>(std::errc::host_unreachable) || code == static_cast<int>(std::errc::connection_refused) ||
      code == static_cast<int>(std::errc::network_unreachable)) {
    return true;
  }
  std::string what = e.what();
  for (const char* marker : {"Failed to connect", "Error resolving address", "Failed to resolve address",
                             "Error in SSL handshake", "Failed to write request headers",
                             "Failed to write request body"}) {
    if (what.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::chrono::milliseconds ParseRetryAfter(const std::string& value) {
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 6) {
    return std::chrono::milliseconds(0);  // HTTP dates are not used by kube-apiserver
  }
  return std::chrono::seconds(std::stoi(value));
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

std::string Shorten(const std::string& text, size_t limit = 200) {
  return text.size() <= limit ? text : text.substr(0, limit) + "...";
}

std::string MetadataString(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto value = metadata->find(key);
  return value != metadata->end() && value->is_string() ? value->get<std::string>() : "";
}

template <typename T>
KubeResult<T> Failure(KubeError error) {
  KubeResult<T> result;
  result.error = std::move(error);
  return result;
}

KubeError LocalError(const KubeCall& call, const std::string& what) {
  KubeError error;
  error.message = call.Describe() + ": " + what;
  return error;
}

}  // namespace

class RestKubeClient::Impl {
 public:
  Impl(const KubeConfig& config, const RestClientOptions& options, std::shared_ptr<const TlsMaterial> tls)
      : config_(config),
        options_(options),
        tls_(std::move(tls)),
        base_uri_(web::uri(config.server)),
        client_(base_uri_, MakeConfig(options.request_timeout)),
        seed_(std::random_device{}()) {
    if (!config.token_file.empty()) {
      tokens_ = TokenSource::FromFile(config.token_file, options.token_recheck);
    } else if (!config.token.empty()) {
      tokens_ = TokenSource::Fixed(config.token);
    }
    credentials_.server = config.server;
    if (!config.client_cert_pem.empty()) {
      credentials_.description = "client certificate from " + config.source;
    } else if (!config.token_file.empty()) {
      credentials_.description = "bearer token from file " + config.token_file + ", " + config.source;
    } else if (!config.token.empty()) {
      credentials_.description = "bearer token from " + config.source;
    } else {
      credentials_.description = "no credentials (anonymous), " + config.source;
    }
  }

  http_client_config MakeConfig(std::chrono::seconds timeout) const {
    http_client_config client_config;
    client_config.set_timeout(timeout);
    client_config.set_validate_certificates(!config_.insecure_skip_tls_verify);
    std::shared_ptr<const TlsMaterial> tls = tls_;
    client_config.set_ssl_context_callback([tls](boost::asio::ssl::context& context) { ApplyTls(context, *tls); });
    return client_config;
  }

  http::http_request BuildRequest(const Request& request, const std::string& token) const {
    http::http_request message(request.method);
    message.set_request_uri(web::uri(request.path));
    message.headers().add("Accept", "application/json");
    message.headers().add("User-Agent", options_.user_agent);
    if (!token.empty()) message.headers().add("Authorization", "Bearer " + token);
    if (request.body) {
      // Bytes, not set_body(std::string): that overload reads a char buffer through a uint8_t
      // stream type (undefined behaviour that UBSan reports). The header goes first so that
      // set_body keeps it.
      message.headers().set_content_type(request.content_type);
      message.set_body(std::vector<unsigned char>(request.body->begin(), request.body->end()));
    }
    return message;
  }

  Answer SendOnce(const Request& request) {
    Answer answer;
    try {
      http::http_response response = client_.request(BuildRequest(request, tokens_.Token())).get();
      int status = response.status_code();
      std::string retry_after;
      response.headers().match("Retry-After", retry_after);
      answer.body = response.extract_utf8string(/*ignore_content_type=*/true).get();
      answer.status = status;
      answer.retry_after = retry_after;
    } catch (const http::http_exception& e) {
      answer.transport_error = e.what();
      answer.maybe_sent = !NeverSent(e);
    } catch (const std::exception& e) {
      answer.transport_error = e.what();
    }
    return answer;
  }

  static bool Retryable(const Request& request, const Answer& answer) {
    if (answer.status == 0) return request.idempotent || !answer.maybe_sent;
    // Priority and fairness rejects with 429 before any handler runs, so even a write was not applied.
    if (answer.status == 429) return true;
    if (answer.status >= 500 && answer.status != 501 && answer.status != 505) return request.idempotent;
    return false;
  }

  Answer Execute(const Request& request) {
    Backoff backoff(options_.retry, seed_ + counter_.fetch_add(1));
    bool token_reloaded = false;
    for (int attempt = 1;; ++attempt) {
      Answer answer = SendOnce(request);
      if (answer.status == 401 && !token_reloaded && tokens_.from_file() && tokens_.Reload()) {
        token_reloaded = true;  // rotated under us: one more try with the new token, not counted
        --attempt;
        continue;
      }
      answer.attempts = attempt;
      if (attempt >= options_.retry.max_attempts || !Retryable(request, answer)) return answer;
      std::this_thread::sleep_for(backoff.Next(ParseRetryAfter(answer.retry_after)));
    }
  }

  KubeError ErrorOf(const Request& request, const Answer& answer) const {
    if (answer.status == 0) {
      std::string what = answer.transport_error;
      if (answer.attempts > 1) what += " (after " + std::to_string(answer.attempts) + " attempts)";
      if (what.find("SSL handshake") != std::string::npos) {
        what += "; check that the certificate authority of " + config_.source +
                " signed the server's certificate, and that the client certificate is accepted";
      }
      if (tokens_error_hint()) what += "; " + tokens_.error();
      return TransportError(request.call, credentials_, what);
    }
    KubeError error = ErrorFromResponse(request.call, credentials_, answer.status, answer.body);
    if (answer.status == 401 && tokens_error_hint()) error.message += "; " + tokens_.error();
    return error;
  }

  bool tokens_error_hint() const { return tokens_.from_file() && !tokens_.error().empty(); }

  // A call whose answer is one object.
  KubeResult<nlohmann::json> ObjectCall(const Request& request) {
    Answer answer = Execute(request);
    if (answer.status < 200 || answer.status >= 300) return Failure<nlohmann::json>(ErrorOf(request, answer));
    nlohmann::json object = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) {
      return Failure<nlohmann::json>(
          LocalError(request.call, "the server answered with something that is not a JSON object: " + Shorten(answer.body)));
    }
    KubeResult<nlohmann::json> result;
    result.value = std::move(object);
    return result;
  }

  // The namespace of a write: the argument, else the object's own.
  static std::string NamespaceFor(const ResourceKind& kind, const std::string& ns, const nlohmann::json& object) {
    if (!kind.namespaced) return "";
    return ns.empty() ? MetadataString(object, "namespace") : ns;
  }

  KubeResult<ObjectList> List(const ResourceKind& kind, const ListOptions& options) {
    Request request{KubeCall{KubeVerb::kList, kind, kind.namespaced ? options.ns : "", ""}, http::methods::GET};
    request.idempotent = true;
    ObjectList list;
    std::string continue_token;
    bool restarted = false;
    for (int page_index = 0;; ++page_index) {
      request.path = WithQuery(CollectionPath(kind, options.ns),
                               {{"limit", options.page_size > 0 ? std::to_string(options.page_size) : ""},
                                {"continue", continue_token},
                                {"labelSelector", options.label_selector},
                                {"fieldSelector", options.field_selector}});
      Answer answer = Execute(request);
      if (answer.status == 410 && !continue_token.empty() && !restarted) {
        // The snapshot behind `continue` was compacted away: start over once, from a new snapshot.
        restarted = true;
        list = ObjectList();
        continue_token.clear();
        page_index = -1;
        continue;
      }
      if (answer.status < 200 || answer.status >= 300) return Failure<ObjectList>(ErrorOf(request, answer));
      nlohmann::json page = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
      if (page.is_discarded() || !page.is_object()) {
        return Failure<ObjectList>(LocalError(request.call, "the server answered with something that is not a JSON list: " +
                                                                Shorten(answer.body)));
      }
      auto items = page.find("items");
      if (items != page.end() && items->is_array()) {
        for (auto& item : *items) {
          // List items come without apiVersion/kind; watch events carry them. Fill them in so
          // both look the same to the caller.
          if (item.is_object()) {
            if (!item.contains("apiVersion")) item["apiVersion"] = kind.ApiVersion();
            if (!item.contains("kind") && !kind.kind.empty()) item["kind"] = kind.kind;
          }
          list.items.push_back(std::move(item));
        }
      }
      list.resource_version = MetadataString(page, "resourceVersion");
      continue_token = MetadataString(page, "continue");
      if (options_.after_list_page) options_.after_list_page(page_index);
      if (continue_token.empty()) break;
    }
    KubeResult<ObjectList> result;
    result.value = std::move(list);
    return result;
  }

  KubeError Watch(const ResourceKind& kind, const WatchOptions& options,
                  const std::function<bool(const WatchEvent&)>& on_event, Cancellation& cancel) {
    KubeCall call{KubeVerb::kWatch, kind, kind.namespaced ? options.ns : "", ""};
    if (cancel.cancelled()) return {};
    Request request{call, http::methods::GET};
    request.path = WithQuery(CollectionPath(kind, options.ns),
                             {{"watch", "1"},
                              {"resourceVersion", options.resource_version},
                              {"allowWatchBookmarks", options.allow_bookmarks ? "true" : ""},
                              {"timeoutSeconds", options.timeout.count() > 0 ? std::to_string(options.timeout.count()) : ""},
                              {"labelSelector", options.label_selector},
                              {"fieldSelector", ""}});
    auto source = std::make_shared<pplx::cancellation_token_source>();
    struct Registration {
      Cancellation& cancel;
      std::uint64_t handle;
      ~Registration() { cancel.Forget(handle); }
    } registration{cancel, cancel.OnCancel([source] { source->cancel(); })};
    try {
      // Its own client: the stream holds its connection for minutes, and its inactivity limit is
      // the watch's timeout plus a margin (the server ends the watch itself at timeoutSeconds;
      // silence well past that means the connection is dead).
      std::chrono::seconds limit =
          (options.timeout.count() > 0 ? options.timeout : std::chrono::seconds(1800)) + std::chrono::seconds(60);
      http_client client(base_uri_, MakeConfig(limit));
      for (bool retried_token = false;;) {
        http::http_response response = client.request(BuildRequest(request, tokens_.Token()), source->get_token()).get();
        if (response.status_code() == 401 && !retried_token && tokens_.from_file() && tokens_.Reload()) {
          retried_token = true;
          continue;
        }
        if (response.status_code() != 200) {
          Answer answer;
          answer.status = response.status_code();
          answer.body = response.extract_utf8string(true).get();
          return ErrorOf(request, answer);
        }
        return ReadEvents(call, response, on_event, cancel, *source);
      }
    } catch (const std::exception& e) {
      if (cancel.cancelled()) return {};
      return TransportError(call, credentials_, e.what());
    } catch (...) {
      if (cancel.cancelled()) return {};
      return TransportError(call, credentials_, "unknown failure");
    }
  }

  // Reads the body as it arrives (cpprestsdk fills the body's buffer chunk by chunk while we
  // read), handing out each complete line as an event.
  KubeError ReadEvents(const KubeCall& call, http::http_response& response,
                       const std::function<bool(const WatchEvent&)>& on_event, Cancellation& cancel,
                       pplx::cancellation_token_source& source) {
    concurrency::streams::streambuf<uint8_t> body = response.body().streambuf();
    std::vector<uint8_t> chunk(64 * 1024);
    WatchLineBuffer lines;
    std::string line;
    for (;;) {
      // The body's producer/consumer buffer completes a read only when it can fill it entirely
      // (or the body ended), so ask for one byte, which waits for the next chunk, then take what
      // else has arrived without waiting. A large read would sit on events until 64 KiB piled up.
      size_t size = body.getn(chunk.data(), 1).get();
      if (cancel.cancelled()) return {};
      if (size == 0) break;  // the server ended the watch
      size_t available = std::min(body.in_avail(), chunk.size() - 1);
      if (available > 0) size += body.getn(chunk.data() + 1, available).get();
      lines.Append(reinterpret_cast<const char*>(chunk.data()), size);
      while (lines.NextLine(&line)) {
        DecodedWatchLine decoded = DecodeWatchLine(line);
        switch (decoded.kind) {
          case DecodedWatchLine::Kind::kBlank:
            break;
          case DecodedWatchLine::Kind::kInvalid:
            source.cancel();
            return LocalError(call, "the server sent " + decoded.problem + ": " + Shorten(line));
          case DecodedWatchLine::Kind::kError:
            source.cancel();
            return ErrorFromStatus(call, credentials_, decoded.status);
          case DecodedWatchLine::Kind::kEvent:
            if (!on_event(decoded.event)) {
              source.cancel();  // closes the connection now rather than at the server's timeout
              return {};
            }
            break;
        }
        if (cancel.cancelled()) return {};
      }
    }
    if (lines.HasPartialLine()) return TransportError(call, credentials_, "the watch stream ended in the middle of an event");
    return {};
  }

  KubeResult<nlohmann::json> Get(const ResourceKind& kind, const std::string& ns, const std::string& name) {
    Request request{KubeCall{KubeVerb::kGet, kind, kind.namespaced ? ns : "", name}, http::methods::GET};
    request.idempotent = true;
    if (auto problem = CheckTarget(request.call)) return Failure<nlohmann::json>(*problem);
    request.path = ObjectPath(kind, ns, name);
    return ObjectCall(request);
  }

  KubeResult<nlohmann::json> Create(const ResourceKind& kind, const std::string& ns_arg, const nlohmann::json& object) {
    std::string ns = NamespaceFor(kind, ns_arg, object);
    Request request{KubeCall{KubeVerb::kCreate, kind, ns, MetadataString(object, "name")}, http::methods::POST};
    if (kind.namespaced && ns.empty()) {
      return Failure<nlohmann::json>(LocalError(request.call, "a namespace is needed (argument or metadata.namespace)"));
    }
    request.path = CollectionPath(kind, ns);
    request.body = object.dump();
    return ObjectCall(request);
  }

  KubeResult<nlohmann::json> Put(KubeVerb verb, const ResourceKind& kind, const std::string& ns_arg,
                                 const nlohmann::json& object) {
    std::string ns = NamespaceFor(kind, ns_arg, object);
    Request request{KubeCall{verb, kind, ns, MetadataString(object, "name")}, http::methods::PUT};
    if (auto problem = CheckTarget(request.call)) return Failure<nlohmann::json>(*problem);
    request.path = ObjectPath(kind, ns, request.call.name, verb == KubeVerb::kUpdateStatus ? "status" : "");
    request.body = object.dump();
    return ObjectCall(request);
  }

  KubeResult<nlohmann::json> Patch(const ResourceKind& kind, const std::string& ns, const std::string& name,
                                   PatchType type, const nlohmann::json& patch) {
    Request request{KubeCall{KubeVerb::kPatch, kind, kind.namespaced ? ns : "", name}, http::methods::PATCH};
    if (auto problem = CheckTarget(request.call)) return Failure<nlohmann::json>(*problem);
    request.path = ObjectPath(kind, ns, name);
    request.body = patch.dump();
    request.content_type = PatchContentType(type);
    return ObjectCall(request);
  }

  KubeError Delete(const ResourceKind& kind, const std::string& ns, const std::string& name) {
    Request request{KubeCall{KubeVerb::kDelete, kind, kind.namespaced ? ns : "", name}, http::methods::DEL};
    if (auto problem = CheckTarget(request.call)) return *problem;
    request.path = ObjectPath(kind, ns, name);
    Answer answer = Execute(request);
    if (answer.status >= 200 && answer.status < 300) return {};
    return ErrorOf(request, answer);
  }

  // A call on one object needs its name, and its namespace when the kind is namespaced.
  static std::optional<KubeError> CheckTarget(const KubeCall& call) {
    if (call.name.empty()) return LocalError(call, "the object has no name (metadata.name)");
    if (call.kind.namespaced && call.ns.empty()) {
      return LocalError(call, "a namespace is needed (argument or metadata.namespace)");
    }
    return std::nullopt;
  }

  const CredentialInfo& credentials() const { return credentials_; }

 private:
  KubeConfig config_;
  RestClientOptions options_;
  std::shared_ptr<const TlsMaterial> tls_;
  web::uri base_uri_;
  http_client client_;
  TokenSource tokens_;
  CredentialInfo credentials_;
  std::uint64_t seed_;
  std::atomic<std::uint64_t> counter_{0};
};

KubeResult<std::unique_ptr<RestKubeClient>> RestKubeClient::Create(const KubeConfig& config,
                                                                   const RestClientOptions& options) {
  KubeResult<std::unique_ptr<RestKubeClient>> result;
  std::string source = config.source.empty() ? "the Kubernetes client configuration" : config.source;
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    result.error.message = source + ": the server \"" + config.server + "\" is not an http(s):// URL";
    return result;
  }
  auto tls = std::make_shared<TlsMaterial>(TlsMaterial{config.ca_pem, config.client_cert_pem, config.client_key_pem});
  if (std::string problem = CheckTls(*tls, source); !problem.empty()) {
    result.error.message = problem;
    return result;
  }
  try {
    result.value = std::unique_ptr<RestKubeClient>(new RestKubeClient(std::make_unique<Impl>(config, options, tls)));
  } catch (const std::exception& e) {
    result.error.message = source + ": cannot create a client for " + config.server + ": " + e.what();
  }
  return result;
}

RestKubeClient::RestKubeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RestKubeClient::~RestKubeClient() = default;

// The outermost boundary: whatever slipped through becomes an error, never an exception.
#define CMESH_KUBE_BOUNDARY(verb, kind, ns, name, failure_expr)                                 \
  catch (const std::exception& e) {                                                            \
    KubeError error = LocalError(KubeCall{verb, kind, ns, name}, std::string("internal error: ") + e.what()); \
    return failure_expr;                                                                       \
  }                                                                                            \
  catch (...) {                                                                                \
    KubeError error = LocalError(KubeCall{verb, kind, ns, name}, "internal error");            \
    return failure_expr;                                                                       \
  }

KubeResult<ObjectList> RestKubeClient::List(const ResourceKind& kind, const ListOptions& options) {
  try {
    return impl_->List(kind, options);
  }
  CMESH_KUBE_BOUNDARY(KubeVerb::kList, kind, options.ns, "", Failure<ObjectList>(error))
}

KubeError RestKubeClient::Watch(const ResourceKind& kind, const WatchOptions& options,
                                const std::function<bool(const WatchEvent&)>& on_event, Cancellation& cancel) {
  try {
    return impl_->Watch(kind, options, on_event, cancel);
  }
  CMESH_KUBE_BOUNDARY(KubeVerb::kWatch, kind, options.ns, "", error)
}

KubeResult<nlohmann::json> RestKubeClient::Get(const ResourceKind& kind, const std::string& ns, const std::string& name) {
  try {
    return impl_->Get(kind, ns, name);
  }
  CMESH_KUBE_BOUNDARY(KubeVerb::kGet, kind, ns, name, Failure<nlohmann::json>(error))
}

KubeResult<nlohmann::json> RestKubeClient::Create(const ResourceKind& kind, const std::string& ns,
                                                  const nlohmann::json& object) {
  try {
    return impl_->Create(kind, ns, object);
  }
  CMESH_KUBE_BOUNDARY(KubeVerb::kCreate, kind, ns, "", Failure<nlohmann::json>(error))
}

KubeResult<nlohmann::json> RestKubeClient::Update(const ResourceKind& kind, const std::string& ns,
                                                  const nlohmann::json& object) {
  try {
    return impl_->Put(KubeVerb::kUpdate, kind, ns, object);
  }
  CMESH_KUBE_BOUNDARY(KubeVerb::kUpdate, kind, ns, "", Failure<nlohmann::json>(error))
}

KubeResult<nlohmann::json> RestKubeClient::Patch(const ResourceKind& kind, const std::string& ns,
                                                 const std::string& name, PatchType type, const nlohmann::json& patch) {
  try {
    return impl_->Patch(kind, ns, name, type, patch);
  }
  CMESH_KUBE_BOUNDARY(KubeVerb::kPatch, kind, ns, name, Failure<nlohmann::json>(error))
}

KubeResult<nlohmann::json> RestKubeClient::UpdateStatus(const ResourceKind& kind, const std::string& ns,
                                                        const nlohmann::json& object) {
  try {
    return impl_->Put(KubeVerb::kUpdateStatus, kind, ns, object);
  }
  CMESH_KUBE_BOUNDARY(KubeVerb::kUpdateStatus, kind, ns, "", Failure<nlohmann::json>(error))
}

KubeError RestKubeClient::Delete(const ResourceKind& kind, const std::string& ns, const std::string& name) {
  try {
    return impl_->Delete(kind, ns, name);
  }
  CMESH_KUBE_BOUNDARY(KubeVerb::kDelete, kind, ns, name, error)
}

}  // namespace cmesh::kube
