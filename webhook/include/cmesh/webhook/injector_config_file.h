// The injector's configuration as the chart's ConfigMap holds it (mounted into cmesh-pilot and
// named by --injection-config): the template and the values it renders with.
//
//   template: |          # optional: the built-in template (webhook/injection-template.yaml)
//     ...
//   values:
//     proxyImage: cmesh/proxy:0.1.0
//     imagePullPolicy: IfNotPresent
//     pilotAddress: cmesh-pilot.istio-system.svc:15010
//     concurrency: 2
//     logLevel: info
//     drainDuration: 5s
//     preStopSleepSeconds: 5
//     imagePullSecrets: [name, ...]
//     proxyResources: {requests: {...}, limits: {...}}
//     initResources: {requests: {...}, limits: {...}}
//   policy:
//     revision: default
//     excludedNamespaces: [istio-system, kube-system, ...]
#pragma once

#include <optional>
#include <string>

#include "cmesh/webhook/injector.h"

namespace cmesh::webhook {

// `defaults` overlaid with what the YAML text sets. nullopt and *error (naming the file, the field
// and the reason) when the YAML does not parse or a field has the wrong type; unknown fields are
// errors too, so a typo does not silently keep a default.
std::optional<InjectorConfig> ParseInjectorConfig(const std::string& yaml, const std::string& file,
                                                  InjectorConfig defaults, std::string* error);

}  // namespace cmesh::webhook
