{{- define "podmedic.name" -}}{{ default "podmedic" .Values.nameOverride | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- /* fullnameOverride wins; else the release name when it already holds the name, else
<release>-<name>. Every object is named from it. */ -}}
{{- define "podmedic.fullname" -}}
{{- $name := include "podmedic.name" . -}}
{{- if .Values.fullnameOverride -}}{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains $name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- define "podmedic.labels" -}}
app.kubernetes.io/name: {{ include "podmedic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "podmedic.selectorLabels" -}}
app.kubernetes.io/name: {{ include "podmedic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "podmedic.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "podmedic.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}
{{- define "podmedic.secretName" -}}
{{- if .Values.secret.existingSecret -}}{{ .Values.secret.existingSecret }}{{- else -}}{{ include "podmedic.fullname" . }}{{- end -}}
{{- end -}}
{{- /* Whether podmedic asks an LLM at all: only when one is deployed with the chart or named.
Without one the chart renders diagnosis.enabled: false (rules-based facts only: no model check, no
"LLM unreachable" warning, no llm_error counted on every incident). */ -}}
{{- define "podmedic.llmEnabled" -}}
{{- if and .Values.diagnosis.enabled (or .Values.ollama.url .Values.ollama.bundled.enabled) -}}true{{- else -}}false{{- end -}}
{{- end -}}
{{- define "podmedic.ollamaUrl" -}}
{{- if .Values.ollama.url -}}{{ .Values.ollama.url }}{{- else if .Values.ollama.bundled.enabled -}}http://{{ include "podmedic.fullname" . }}-ollama:11434{{- else -}}http://ollama:11434{{- end -}}
{{- end -}}
{{- /*
Where the HTTP API's bearer token comes from, as one word:
  existing  a Secret the user manages (server.existingTokenSecret, key server.existingTokenSecretKey)
  shared    a key in the notifier Secret (server.tokenSecretKey in secret.existingSecret/secret.values)
  generated a Secret this chart creates once (random) and keeps across upgrades (templates/token-secret.yaml)
  none      no token: server.allowUnauthenticated=true, chosen explicitly
"generated" needs `lookup` to see the cluster (otherwise every render would mint a new token and
rotate it on each sync); where it cannot (helm template, helm install --dry-run, Argo CD), rendering
fails and says what to set. The probe is the Namespace kube-system: it exists in every cluster, so an
empty answer means lookup is blind.
*/ -}}
{{- define "podmedic.tokenMode" -}}
{{- $s := .Values.server -}}
{{- if and $s.existingTokenSecret $s.tokenSecretKey -}}
{{- fail "podmedic: set either server.existingTokenSecret (a Secret of its own) or server.tokenSecretKey (a key in secret.existingSecret), not both" -}}
{{- else if and $s.allowUnauthenticated (or $s.existingTokenSecret $s.tokenSecretKey) -}}
{{- fail "podmedic: server.allowUnauthenticated=true contradicts server.existingTokenSecret/server.tokenSecretKey; choose one" -}}
{{- else if $s.existingTokenSecret -}}existing
{{- else if $s.tokenSecretKey -}}shared
{{- else if $s.allowUnauthenticated -}}none
{{- else -}}generated
{{- end -}}
{{- end -}}
{{- define "podmedic.tokenSecretName" -}}
{{- $mode := include "podmedic.tokenMode" . -}}
{{- if eq $mode "existing" -}}{{ .Values.server.existingTokenSecret }}
{{- else if eq $mode "shared" -}}{{ include "podmedic.secretName" . }}
{{- else if eq $mode "generated" -}}{{ printf "%s-api-token" (include "podmedic.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end -}}
{{- end -}}
{{- define "podmedic.tokenSecretKey" -}}
{{- $mode := include "podmedic.tokenMode" . -}}
{{- if eq $mode "existing" -}}{{ .Values.server.existingTokenSecretKey | default "token" }}
{{- else if eq $mode "shared" -}}{{ .Values.server.tokenSecretKey }}
{{- else if eq $mode "generated" -}}token
{{- end -}}
{{- end -}}
