{{/*
Names, labels and the vigil.yaml of each role. Templates that take more than
the root context get a dict: {root: $, component: "server"|"runner",
region: NAME (runners)}.
*/}}

{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The resource-name prefix: "vigil" for a release named vigil. */}}
{{- define "vigil.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vigil.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vigil.serverName" -}}
{{- printf "%s-server" (include "vigil.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vigil.runnerName" -}}
{{- printf "%s-runner-%s" (include "vigil.fullname" .root) .region | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable for the life of a release. */}}
{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .region }}
vigil.dev/region: {{ . }}
{{- end }}
{{- end }}

{{/* All labels of a resource; component and region are optional. */}}
{{- define "vigil.labels" -}}
helm.sh/chart: {{ include "vigil.chart" .root }}
app.kubernetes.io/name: {{ include "vigil.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- with .region }}
vigil.dev/region: {{ . }}
{{- end }}
app.kubernetes.io/version: {{ include "vigil.imageTag" .root | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: vigil
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "vigil.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag | trunc 63 }}
{{- end }}

{{- define "vigil.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The URL runners push run history to. */}}
{{- define "vigil.serverURL" -}}
{{- if .Values.runner.serverURL }}
{{- .Values.runner.serverURL }}
{{- else if .Values.server.enabled }}
{{- printf "http://%s.%s:%v" (include "vigil.serverName" .) .Release.Namespace .Values.server.service.port }}
{{- else }}
{{- fail "runner.serverURL: required when server.enabled is false (the runners push run history to a server)" }}
{{- end }}
{{- end }}

{{/*
The server's vigil.yaml: the chart's keys with server.config merged over
them (maps merge; lists and scalars replace).
*/}}
{{- define "vigil.serverConfig" -}}
{{- $cfg := dict
  "data_dir" "/data"
  "storage" (dict "driver" "postgres" "dsn" "${env:VIGIL_PG_DSN}")
  "server" (dict "listen" "0.0.0.0:8080" "tokens_file" "/etc/vigil/tokens.yaml")
  "prometheus" (dict "url" .Values.prometheus.url)
  "slos" (list "/etc/vigil/slos/*.yaml")
  "retention" (dict "runs" "90d")
  "log" (dict "format" "json")
}}
{{- toYaml (mustMergeOverwrite $cfg (deepCopy .Values.server.config)) }}
{{- end }}

{{/* A region's runner vigil.yaml: chart keys < runner.config < region config. */}}
{{- define "vigil.runnerConfig" -}}
{{- $root := .root }}
{{- $cfg := dict
  "data_dir" "/data"
  "region" .region.name
  "external_labels" (dict "replica" "${env:POD_NAME}")
  "server" (dict "listen" "0.0.0.0:8080")
  "journeys" (list "/etc/vigil/journeys/*.yaml")
  "runner" (dict "server_url" (include "vigil.serverURL" $root) "token" "${env:VIGIL_RUNNER_TOKEN}")
  "remote_write" (dict "url" $root.Values.runner.remoteWriteURL "bearer_token" "${env:VIGIL_REMOTE_WRITE_TOKEN}")
  "log" (dict "format" "json")
}}
{{- $cfg = mustMergeOverwrite $cfg (deepCopy $root.Values.runner.config) (deepCopy (.region.config | default dict)) }}
{{- toYaml $cfg }}
{{- end }}

{{/* env entries from keys of a Secret: {secret: NAME, env: [{name, key}]}. */}}
{{- define "vigil.secretEnv" -}}
{{- $secret := .secret }}
{{- range .env }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .key }}
{{- end }}
{{- end }}

{{/* The vigil container's probes, port and security context. */}}
{{- define "vigil.containerCommon" -}}
image: {{ include "vigil.image" . }}
{{- with .Values.image.pullPolicy }}
imagePullPolicy: {{ . }}
{{- end }}
ports:
  - name: http
    containerPort: 8080
    protocol: TCP
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
securityContext:
  {{- toYaml .Values.containerSecurityContext | nindent 2 }}
{{- end }}
