{{/* Labels on every object of the chart. */}}
{{- define "cmesh.labels" -}}
app.kubernetes.io/name: cmesh-pilot
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: cmesh
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* What selects cmesh-pilot's pods: the Deployment, the Service, the PDB. */}}
{{- define "cmesh.selectorLabels" -}}
app: cmesh-pilot
{{- end }}

{{- define "cmesh.tag" -}}
{{ .Values.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "cmesh.pilotImage" -}}
{{ .Values.pilot.image | default (printf "%s/pilot:%s" .Values.hub (include "cmesh.tag" .)) }}
{{- end }}

{{- define "cmesh.proxyImage" -}}
{{ .Values.proxy.image | default (printf "%s/proxy:%s" .Values.hub (include "cmesh.tag" .)) }}
{{- end }}

{{/* The namespaces never injected: the control plane's own first. */}}
{{- define "cmesh.excludedNamespaces" -}}
{{ prepend (without .Values.sidecarInjector.excludedNamespaces .Release.Namespace) .Release.Namespace | toJson }}
{{- end }}

{{/* A webhook's clientConfig: the Service on 443, or webhook.url. $ = root, path = /inject ... */}}
{{- define "cmesh.clientConfig" -}}
{{- $root := index . 0 -}}
{{- $path := index . 1 -}}
clientConfig:
  {{- if $root.Values.webhook.url }}
  url: {{ printf "%s%s" (trimSuffix "/" $root.Values.webhook.url) $path | quote }}
  {{- else }}
  service:
    name: cmesh-pilot
    namespace: {{ $root.Release.Namespace }}
    path: {{ $path | quote }}
    port: 443
  {{- end }}
  {{- with $root.Values.webhook.caBundle }}
  caBundle: {{ . | quote }}
  {{- end }}
{{- end }}
