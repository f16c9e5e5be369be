// Document dispatch: apiVersion/kind → decoder → validation → ConfigSet.
#include "cmesh/model/parser.h"

#include <algorithm>
#include <functional>

#include "cmesh/model/validation.h"
#include "decoders.h"
#include "document_reader.h"

namespace cmesh::model {
namespace {

using internal::DecodeContext;
using internal::Json;

constexpr std::string_view kNetworkingGroup = "networking.istio.io/";

bool IsServedNetworkingVersion(std::string_view version) {
  return version == "v1alpha3" || version == "v1beta1" || version == "v1";
}

std::string StringField(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

class DocumentDecoder {
 public:
  DocumentDecoder(std::string file, ParseResult& result) : file_(std::move(file)), result_(result) {}

  // `line_of` maps a field path of the whole document to its line; `prefix` is this object's path
  // inside the document ("" or "items[3].").
  void Decode(const Json& doc, int line, int depth,
              const std::function<int(std::string_view)>& line_of, const std::string& prefix) {
    size_t first_diagnostic = result_.diagnostics.size();
    bool was_list = DecodeObject(doc, line, depth, line_of, prefix);
    // Point each problem at the line of its field, which is where the user has to look. A List's
    // items did this for themselves, with their own prefix.
    if (!line_of || was_list) return;
    for (size_t i = first_diagnostic; i < result_.diagnostics.size(); ++i) {
      Diagnostic& d = result_.diagnostics[i];
      if (d.field.empty()) continue;
      if (int l = line_of(prefix + d.field); l > 0) d.object.line = l;
    }
  }

 private:
  // Returns true when `doc` was a List (its items decoded one by one).
  bool DecodeObject(const Json& doc, int line, int depth,
                    const std::function<int(std::string_view)>& line_of, const std::string& prefix) {
    ObjectRef ref{file_, line, "", "", ""};
    if (doc.is_null()) return false;
    if (!doc.is_object()) {
      DecodeContext ctx(ref, &result_.diagnostics);
      ctx.Error("", "Invalid value: a document must be a map, got " + internal::JsonTypeName(doc));
      return false;
    }
    ref.kind = StringField(doc, "kind");
    std::string api_version = StringField(doc, "apiVersion");
    if (auto md = doc.find("metadata"); md != doc.end() && md->is_object()) {
      ref.name = StringField(*md, "name");
      ref.ns = StringField(*md, "namespace");
      if (ref.ns.empty()) ref.ns = "default";
    }
    DecodeContext ctx(ref, &result_.diagnostics);
    if (ref.kind.empty()) {
      ctx.Error("kind", "Required value: every document needs a kind");
      return false;
    }
    if (api_version.empty()) {
      ctx.Error("apiVersion", "Required value: every document needs an apiVersion");
      return false;
    }
    // List, ServiceList, VirtualServiceList, ...: decode the items one by one.
    if (ref.kind.size() >= 4 && ref.kind.compare(ref.kind.size() - 4, 4, "List") == 0 &&
        doc.contains("items")) {
      const Json& items = doc["items"];
      if (items.is_null()) return true;
      if (!items.is_array()) {
        ctx.Error("items", "Invalid value: expected a list, got " + internal::JsonTypeName(items));
        return false;
      }
      if (depth > 8) {
        ctx.Error("items", "Invalid value: lists nested too deeply");
        return false;
      }
      for (size_t i = 0; i < items.size(); ++i) {
        std::string item_prefix = prefix + "items[" + std::to_string(i) + "].";
        int item_line = line_of ? line_of(item_prefix.substr(0, item_prefix.size() - 1)) : line;
        Decode(items[i], item_line > 0 ? item_line : line, depth + 1, line_of, item_prefix);
      }
      return true;
    }
    uint64_t hash = internal::CanonicalHash(doc);
    const int spec_line = line_of ? line_of(prefix + "spec") : 0;
    Origin origin{file_, line, hash, spec_line > 0 ? spec_line : line};
    const std::string& kind = ref.kind;
    if (api_version.rfind(kNetworkingGroup, 0) == 0 &&
        (kind == "VirtualService" || kind == "DestinationRule")) {
      std::string version = api_version.substr(kNetworkingGroup.size());
      if (!IsServedNetworkingVersion(version)) {
        ctx.Error("apiVersion", "Unsupported value: \"" + api_version +
                                    "\": supported versions are networking.istio.io/v1alpha3, "
                                    "v1beta1 and v1");
        return false;
      }
      if (kind == "VirtualService") {
        DecodeIstio<VirtualService>(ctx, doc, api_version, origin, result_.config.virtual_services,
                                    internal::DecodeVirtualServiceSpec);
      } else {
        DecodeIstio<DestinationRule>(ctx, doc, api_version, origin,
                                     result_.config.destination_rules,
                                     internal::DecodeDestinationRuleSpec);
      }
      return false;
    }
    if (api_version == "v1" && kind == "Service") {
      DecodeKube<Service>(ctx, doc, origin, result_.config.services, internal::DecodeService);
    } else if (api_version == "v1" && kind == "Pod") {
      DecodeKube<Pod>(ctx, doc, origin, result_.config.pods, internal::DecodePod);
    } else if (api_version == "discovery.k8s.io/v1" && kind == "EndpointSlice") {
      DecodeKube<EndpointSlice>(ctx, doc, origin, result_.config.endpoint_slices,
                                internal::DecodeEndpointSlice);
    } else if (api_version == "v1" && kind == "Endpoints") {
      DecodeKube<Endpoints>(ctx, doc, origin, result_.config.endpoints, internal::DecodeEndpoints);
    } else if (api_version == "v1" && kind == "Namespace") {
      Namespace ns;
      internal::DecodeMeta(ctx, doc, ns.meta);
      ns.origin = origin;
      // A Namespace is cluster-scoped: its own name is what matters, not metadata.namespace.
      ns.meta.ns.clear();
      if (ctx.error_count() == 0) result_.config.namespaces.push_back(std::move(ns));
    } else {
      ctx.Warning("", api_version + " " + kind + " is not supported yet; ignored");
    }
    return false;
  }

  template <typename T, typename SpecDecoder>
  void DecodeIstio(DecodeContext& ctx, const Json& doc, const std::string& api_version,
                   const Origin& origin, std::vector<T>& out, SpecDecoder decode_spec) {
    size_t first_diagnostic = result_.diagnostics.size();
    T obj;
    obj.api_version = api_version;
    obj.origin = origin;
    internal::DecodeMeta(ctx, doc, obj.meta);
    if (obj.meta.name.empty()) ctx.Error("metadata.name", "Required value: name is required");
    static const Json kEmptySpec = Json::object();
    auto spec = doc.find("spec");
    decode_spec(ctx, (spec == doc.end() || spec->is_null()) ? kEmptySpec : *spec, obj);
    // Validation runs even after decoding errors so that one run reports everything, but its
    // findings about a field that failed to decode (or about its parents or children) are
    // dropped: they would repeat the decoding error in other words.
    std::vector<std::string> bad_fields;
    for (size_t i = first_diagnostic; i < result_.diagnostics.size(); ++i) {
      if (result_.diagnostics[i].severity == Severity::kError) {
        bad_fields.push_back(result_.diagnostics[i].field);
      }
    }
    auto related = [](const std::string& a, const std::string& b) {
      auto within = [](const std::string& inner, const std::string& outer) {
        return inner.compare(0, outer.size(), outer) == 0 &&
               (inner.size() == outer.size() || inner[outer.size()] == '.' ||
                inner[outer.size()] == '[');
      };
      return within(a, b) || within(b, a);
    };
    bool has_errors = ctx.error_count() > 0;
    for (Diagnostic& d : Validate(obj)) {
      bool repeated = std::any_of(bad_fields.begin(), bad_fields.end(),
                                  [&](const std::string& f) { return related(d.field, f); });
      if (repeated) continue;
      has_errors = has_errors || d.severity == Severity::kError;
      d.object = ctx.ref();
      result_.diagnostics.push_back(std::move(d));
    }
    if (!has_errors) out.push_back(std::move(obj));
  }

  template <typename T, typename Decoder>
  void DecodeKube(DecodeContext& ctx, const Json& doc, const Origin& origin, std::vector<T>& out,
                  Decoder decode) {
    T obj;
    obj.origin = origin;
    internal::DecodeMeta(ctx, doc, obj.meta);
    if (obj.meta.name.empty()) ctx.Error("metadata.name", "Required value: name is required");
    decode(ctx, doc, obj);
    if (ctx.error_count() == 0) out.push_back(std::move(obj));
  }

  std::string file_;
  ParseResult& result_;
};

}  // namespace

ParseResult ParseDocuments(std::string_view text, std::string_view file_name, ParseOptions options) {
  ParseResult result;
  std::string file = file_name.empty() ? std::string("<inline>") : std::string(file_name);
  std::vector<internal::RawDocument> docs;
  internal::ReadDocuments(text, file, docs, result.diagnostics);
  DocumentDecoder decoder(file, result);
  for (const auto& doc : docs) decoder.Decode(doc.json, doc.line, 0, doc.line_of, "");
  if (options.cross_object_checks) CheckCrossObjectRules(&result);
  return result;
}

}  // namespace cmesh::model
