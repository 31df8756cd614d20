{{- define "podmedic.name" -}}podmedic{{- end -}}
{{- define "podmedic.fullname" -}}
{{- if contains "podmedic" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-podmedic" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- define "podmedic.labels" -}}
app.kubernetes.io/name: podmedic
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "podmedic.selectorLabels" -}}
app.kubernetes.io/name: podmedic
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "podmedic.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "podmedic.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}
{{- define "podmedic.secretName" -}}
{{- if .Values.secret.existingSecret -}}{{ .Values.secret.existingSecret }}{{- else -}}{{ include "podmedic.fullname" . }}{{- end -}}
{{- end -}}
{{- define "podmedic.ollamaUrl" -}}
{{- if .Values.ollama.url -}}{{ .Values.ollama.url }}{{- else if .Values.ollama.bundled.enabled -}}http://{{ include "podmedic.fullname" . }}-ollama:11434{{- else -}}http://ollama:11434{{- end -}}
{{- end -}}
