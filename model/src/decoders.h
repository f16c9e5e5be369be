// Decoders from a JSON document to the model's structs, one per kind. Istio specs are decoded
// strictly (unknown fields are errors, as istioctl does); Kubernetes objects leniently (we keep a
// small subset of their fields).
#pragma once

#include "cmesh/model/destination_rule.h"
#include "cmesh/model/kubernetes.h"
#include "cmesh/model/virtual_service.h"
#include "json_reader.h"

namespace cmesh::model::internal {

// metadata: name, namespace (default "default"), labels, annotations, resourceVersion.
void DecodeMeta(DecodeContext& ctx, const Json& doc, ObjectMeta& meta);

void DecodeVirtualServiceSpec(DecodeContext& ctx, const Json& spec, VirtualService& vs);
void DecodeDestinationRuleSpec(DecodeContext& ctx, const Json& spec, DestinationRule& dr);

void DecodeService(DecodeContext& ctx, const Json& doc, Service& svc);
void DecodePod(DecodeContext& ctx, const Json& doc, Pod& pod);
void DecodeEndpointSlice(DecodeContext& ctx, const Json& doc, EndpointSlice& slice);
void DecodeEndpoints(DecodeContext& ctx, const Json& doc, Endpoints& eps);

}  // namespace cmesh::model::internal
