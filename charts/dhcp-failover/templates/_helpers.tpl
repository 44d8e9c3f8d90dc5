{{/* Chart name, truncated to the 63 characters of a label value. */}}
{{- define "dhcp-failover.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: the release name, with the chart name appended unless already contained. */}}
{{- define "dhcp-failover.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dhcp-failover.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dhcp-failover.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "dhcp-failover.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "dhcp-failover.selectorLabels" . }}
app.kubernetes.io/part-of: dhcp-failover
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "dhcp-failover.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dhcp-failover.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "dhcp-failover.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "dhcp-failover.redisImage" -}}
{{- if .Values.redisImage.digest -}}
{{- printf "%s@%s" .Values.redisImage.repository .Values.redisImage.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.redisImage.repository .Values.redisImage.tag -}}
{{- end -}}
{{- end -}}

{{- define "dhcp-failover.leaseName" -}}
{{- default (include "dhcp-failover.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{/* Fails the render when a prometheus-operator object is enabled but the API is not served. */}}
{{- define "dhcp-failover.requireMonitoringApi" -}}
{{- if not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") -}}
{{- fail "metrics.serviceMonitor/podMonitor/prometheusRule need the monitoring.coreos.com/v1 API (prometheus-operator); with helm template pass --api-versions monitoring.coreos.com/v1" -}}
{{- end -}}
{{- end -}}

{{/*
What the operator may do in a watched namespace (or, without watchNamespaces, in all of them).
No wildcards; Secrets read-only; every verb is used by the operator (docs/crds.md, "RBAC").
*/}}
{{- define "dhcp-failover.operatorRules" -}}
# Reads by informers (get for kubectl-like debugging with the operator's token). The only write to a
# relationship itself is a merge patch removing a handled admin-action annotation; scopes are never written.
- apiGroups: [dhcp.failover.dev]
  resources: [dhcpfailoverrelationships]
  verbs: [get, list, watch, patch]
- apiGroups: [dhcp.failover.dev]
  resources: [dhcpscopes]
  verbs: [get, list, watch]
# Both statuses are written by merge patch only (never GET or PUT on /status).
- apiGroups: [dhcp.failover.dev]
  resources: [dhcpfailoverrelationships/status, dhcpscopes/status]
  verbs: [patch]
# No finalizer of its own: owner references with blockOwnerDeletion on the relationship's objects need
# update on the owner's finalizers (OwnerReferencesPermissionEnforcement). Nothing is owned by a scope.
- apiGroups: [dhcp.failover.dev]
  resources: [dhcpfailoverrelationships/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [configmaps, services, persistentvolumeclaims]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
