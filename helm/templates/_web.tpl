{{/*
The web tier's workloads. Without blue/green: one rolling Deployment `<fullname>-web`. With
blueGreen.enabled (docs/blue-green.md): a Deployment per color (`services` mode) or one Argo
Rollout (`argo-rollouts` mode), all from the same pod template below, so the colors differ
only in their image and their color label.
*/}}

{{/* The label that tells the colors apart; the stable and preview Services select on it. */}}
{{- define "wsgateway.colorLabel" -}}
wsgateway/color
{{- end -}}

{{/* The color that is not `color`. */}}
{{- define "wsgateway.otherColor" -}}
{{- ternary "green" "blue" (eq . "blue") -}}
{{- end -}}

{{/* blueGreen.<color>, or an empty dict without a color. */}}
{{- define "wsgateway.colorValues" -}}
{{- if .color -}}
{{- index .ctx.Values.blueGreen .color | toJson -}}
{{- else -}}
{{- dict | toJson -}}
{{- end -}}
{{- end -}}

{{/* The image of a color: (dict "ctx" $ "color" "blue"); its digest, its tag, else image.*. */}}
{{- define "wsgateway.colorImage" -}}
{{- $c := include "wsgateway.colorValues" . | fromJson -}}
{{- $repository := .ctx.Values.image.repository -}}
{{- if $c.digest -}}
{{- printf "%s@%s" $repository $c.digest -}}
{{- else if $c.tag -}}
{{- printf "%s:%s" $repository $c.tag -}}
{{- else -}}
{{- include "wsgateway.image" .ctx -}}
{{- end -}}
{{- end -}}

{{/* app.kubernetes.io/version of a color: its tag, else the release's version. */}}
{{- define "wsgateway.colorVersion" -}}
{{- $c := include "wsgateway.colorValues" . | fromJson -}}
{{- if $c.tag -}}
{{- include "wsgateway.labelValue" $c.tag -}}
{{- else -}}
{{- include "wsgateway.version" .ctx -}}
{{- end -}}
{{- end -}}

{{/* Selector of the web pods, of one color when "color" is set: (dict "ctx" $ "color" "") */}}
{{- define "wsgateway.webSelectorLabels" -}}
{{ include "wsgateway.selectorLabels" (dict "ctx" .ctx "component" "web") }}
{{- with .color }}
{{ include "wsgateway.colorLabel" . }}: {{ . }}
{{- end }}
{{- end -}}

{{/* Labels of a web object: (dict "ctx" $ "color" "") */}}
{{- define "wsgateway.webLabels" -}}
{{ include "wsgateway.labels" (dict "ctx" .ctx "component" "web" "version" (include "wsgateway.colorVersion" .)) }}
{{- with .color }}
{{ include "wsgateway.colorLabel" . }}: {{ . }}
{{- end }}
{{- end -}}

{{/* Does this color run pods? Always true without a color. */}}
{{- define "wsgateway.colorRunning" -}}
{{- $c := include "wsgateway.colorValues" . | fromJson -}}
{{- if or (not .color) $c.running -}}true{{- end -}}
{{- end -}}

{{/* How many copies of the web tier may run at once: 1, or 2 while both colors run. */}}
{{- define "wsgateway.webCopies" -}}
{{- $bg := .Values.blueGreen -}}
{{- if not $bg.enabled -}}
1
{{- else if eq $bg.mode "argo-rollouts" -}}
2
{{- else -}}
{{- add (ternary 1 0 $bg.blue.running) (ternary 1 0 $bg.green.running) -}}
{{- end -}}
{{- end -}}

{{/* The web pod template (metadata and spec): (dict "ctx" $ "color" "") */}}
{{- define "wsgateway.webPodTemplate" -}}
{{- $ctx := .ctx -}}
{{- $w := $ctx.Values.web -}}
{{- $checksums := dict "checksum/config" (include "wsgateway.configData" $ctx | sha256sum) -}}
{{- if $ctx.Values.secrets.create.enabled -}}
{{- $_ := set $checksums "checksum/secret" (toJson $ctx.Values.secrets.create | sha256sum) -}}
{{- end -}}
{{- with $ctx.Values.secrets.rolloutToken -}}
{{- $_ := set $checksums "checksum/secret-rollout-token" (. | sha256sum) -}}
{{- end -}}
metadata:
  labels:
    {{- include "wsgateway.podLabels" (dict "labels" (include "wsgateway.webLabels" .) "component" $w) | nindent 4 }}
  # Changed settings roll the pods (checksum/*).
  {{- include "wsgateway.annotations" (dict "ctx" $ctx "annotations" (merge (deepCopy $checksums) (default dict $w.podAnnotations)) "common" false) | nindent 2 }}
spec:
  {{- include "wsgateway.podSpec" (dict "ctx" $ctx "identity" "runtime" "component" $w "fields" (include "wsgateway.webPodFields" .) "containers" (include "wsgateway.webContainer" .)) | nindent 2 }}
{{- end -}}

{{/* The web pod's scheduling and termination fields: (dict "ctx" $ "color" "") */}}
{{- define "wsgateway.webPodFields" -}}
{{- $ctx := .ctx -}}
{{- $w := $ctx.Values.web -}}
terminationGracePeriodSeconds: {{ $w.terminationGracePeriodSeconds }}
{{- with $w.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- if or $w.topologySpread.enabled $w.extraTopologySpreadConstraints }}
topologySpreadConstraints:
  {{- if $w.topologySpread.enabled }}
  - maxSkew: {{ $w.topologySpread.maxSkew }}
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: {{ $w.topologySpread.zoneWhenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "wsgateway.selectorLabels" (dict "ctx" $ctx "component" "web") | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
  - maxSkew: {{ $w.topologySpread.maxSkew }}
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: {{ $w.topologySpread.nodeWhenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "wsgateway.selectorLabels" (dict "ctx" $ctx "component" "web") | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
  {{- end }}
  {{- range $w.extraTopologySpreadConstraints }}
  - {{- toYaml (merge (deepCopy .) (dict "labelSelector" (dict "matchLabels" (include "wsgateway.selectorLabels" (dict "ctx" $ctx "component" "web") | fromYaml)))) | nindent 4 }}
  {{- end }}
{{- end }}
{{- with $w.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $w.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $w.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The web container: (dict "ctx" $ "color" "") */}}
{{- define "wsgateway.webContainer" -}}
{{- $ctx := .ctx -}}
{{- $w := $ctx.Values.web -}}
{{- $env := list -}}
{{- if $w.allowPodIpHost -}}
{{- $env = list (dict "name" "POD_IP" "valueFrom" (dict "fieldRef" (dict "fieldPath" "status.podIP"))) (dict "name" "ALLOWED_HOSTS" "value" (include "wsgateway.allowedHosts" (dict "ctx" $ctx "podIp" true))) -}}
{{- end -}}
{{- /* Prometheus's multiprocess files (the ops port's /metrics), on the shm emptyDir; the web
pods only: the Jobs keep their metrics in memory. */ -}}
{{- $env = append $env (dict "name" "PROMETHEUS_MULTIPROC_DIR" "value" "/dev/shm/wsgateway-metrics") -}}
{{- with .color -}}
{{- /* wsgateway_build_info's color label. */ -}}
{{- $env = append $env (dict "name" "DEPLOYMENT_COLOR" "value" .) -}}
{{- end -}}
{{- $fields := dict
  "ports" (list
    (dict "name" "http" "containerPort" $w.containerPort "protocol" "TCP")
    (dict "name" "ops" "containerPort" $w.opsPort "protocol" "TCP"))
  "startupProbe" $w.startupProbe
  "livenessProbe" $w.livenessProbe
  "readinessProbe" $w.readinessProbe
  "lifecycle" (dict "preStop" (dict "exec" (dict "command" (list "sleep" (toString $w.preStopSleepSeconds)))))
-}}
{{- /* preStop: endpoints and the load balancer stop routing here first; then gunicorn gets
SIGTERM and GUNICORN_GRACEFUL_TIMEOUT for in-flight callbacks. */ -}}
{{- include "wsgateway.appContainer" (dict "ctx" $ctx "name" "web" "image" (include "wsgateway.colorImage" .) "command" $w.command "env" $env "resources" $w.resources "fields" $fields) -}}
{{- end -}}

{{/* A web Deployment: (dict "ctx" $ "color" ""); `<fullname>-web` or `<fullname>-web-<color>`. */}}
{{- define "wsgateway.webDeployment" -}}
{{- $ctx := .ctx -}}
{{- $w := $ctx.Values.web -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "wsgateway.webName" . }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "wsgateway.webLabels" . | nindent 4 }}
  {{- include "wsgateway.annotations" (dict "ctx" $ctx) | nindent 2 }}
spec:
  {{- if not (include "wsgateway.colorRunning" .) }}
  # The idle color, scaled down: the Deployment stays so the next deploy or a rollback
  # only has to scale it up.
  replicas: 0
  {{- else if not $w.autoscaling.enabled }}
  replicas: {{ $w.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "wsgateway.webSelectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # Never below the desired count: API Gateway keeps calling while pods roll.
      maxUnavailable: 0
      maxSurge: {{ $w.maxSurge }}
  template:
    {{- include "wsgateway.webPodTemplate" . | nindent 4 }}
{{- end -}}

{{/* Name of the web workload (and its HPA): (dict "ctx" $ "color" "") */}}
{{- define "wsgateway.webName" -}}
{{- include "wsgateway.componentName" (dict "ctx" .ctx "suffix" (ternary (printf "web-%s" .color) "web" (not (empty .color)))) -}}
{{- end -}}

{{/* The colors whose web workloads this release renders: "" (one Deployment) or blue, green. */}}
{{- define "wsgateway.webColors" -}}
{{- if and .Values.blueGreen.enabled (eq .Values.blueGreen.mode "services") -}}
{{- list "blue" "green" | toJson -}}
{{- else -}}
{{- list "" | toJson -}}
{{- end -}}
{{- end -}}

{{/* A web Service: (dict "ctx" $ "suffix" "web" "color" "" "annotations" dict) */}}
{{- define "wsgateway.webService" -}}
{{- $ctx := .ctx -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "wsgateway.componentName" (dict "ctx" $ctx "suffix" .suffix) }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "wsgateway.labels" (dict "ctx" $ctx "component" "web") | nindent 4 }}
  {{- include "wsgateway.annotations" (dict "ctx" $ctx "annotations" .annotations) | nindent 2 }}
spec:
  type: {{ $ctx.Values.web.service.type }}
  selector:
    {{- include "wsgateway.webSelectorLabels" (dict "ctx" $ctx "color" .color) | nindent 4 }}
  ports:
    - name: http
      port: {{ $ctx.Values.web.service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{/* An HPA: (dict "ctx" $ "color" "" "kind" "Deployment" "apiVersion" "apps/v1") */}}
{{- define "wsgateway.webHpa" -}}
{{- $a := .ctx.Values.web.autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "wsgateway.webName" . }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "wsgateway.webLabels" . | nindent 4 }}
  {{- include "wsgateway.annotations" (dict "ctx" .ctx) | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: {{ .apiVersion }}
    kind: {{ .kind }}
    name: {{ include "wsgateway.webName" . }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
    {{- if gt (int $a.targetMemoryUtilizationPercentage) 0 }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $a.targetMemoryUtilizationPercentage }}
    {{- end }}
  {{- with $a.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/*
An Ingress to the Service of the same suffix: (dict "ctx" $ "suffix" "web" "hosts" list "tls" list)
Every host gets web.ingress.paths. With web.ingress.tls.enabled the first TLS entry covers the
first host (web.ingress.tls.secretName); web.ingress.extraTls adds entries as given.
*/}}
{{- define "wsgateway.webIngress" -}}
{{- $ctx := .ctx -}}
{{- $i := $ctx.Values.web.ingress -}}
{{- $service := include "wsgateway.componentName" (dict "ctx" $ctx "suffix" .suffix) -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $service }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "wsgateway.labels" (dict "ctx" $ctx "component" "web") | nindent 4 }}
  {{- include "wsgateway.annotations" (dict "ctx" $ctx "annotations" $i.annotations) | nindent 2 }}
spec:
  {{- with $i.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- with .tls }}
  tls:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    {{- range $host := .hosts }}
    - host: {{ $host | quote }}
      http:
        paths:
          {{- range $i.paths }}
          - path: {{ . }}
            pathType: {{ $i.pathType }}
            backend:
              service:
                name: {{ $service }}
                port:
                  name: http
          {{- end }}
    {{- end }}
{{- end -}}

{{/* The TLS entries of the Ingress of `host` (the main or the preview one): (dict "ctx" $ "host" … "extra" true) */}}
{{- define "wsgateway.ingressTls" -}}
{{- $i := .ctx.Values.web.ingress -}}
{{- $tls := list -}}
{{- if $i.tls.enabled -}}
{{- $entry := dict "hosts" (list .host) -}}
{{- with $i.tls.secretName }}{{ $_ := set $entry "secretName" . }}{{ end -}}
{{- $tls = append $tls $entry -}}
{{- end -}}
{{- if .extra -}}{{- $tls = concat $tls $i.extraTls -}}{{- end -}}
{{- $tls | toJson -}}
{{- end -}}

{{/*
A Gateway API HTTPRoute to the Service of the same suffix: (dict "ctx" $ "suffix" "web" "hostnames" list)
The alternative to the Ingress for clusters whose controller implements the Gateway API: the
Gateway (web.httpRoute.parentRefs) ends TLS and sends every path to the web Service.
*/}}
{{- define "wsgateway.webHttpRoute" -}}
{{- $ctx := .ctx -}}
{{- $r := $ctx.Values.web.httpRoute -}}
{{- $service := include "wsgateway.componentName" (dict "ctx" $ctx "suffix" .suffix) -}}
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {{ $service }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "wsgateway.labels" (dict "ctx" $ctx "component" "web") | nindent 4 }}
  {{- include "wsgateway.annotations" (dict "ctx" $ctx "annotations" $r.annotations) | nindent 2 }}
spec:
  parentRefs:
    {{- toYaml $r.parentRefs | nindent 4 }}
  hostnames:
    {{- toYaml .hostnames | nindent 4 }}
  rules:
    - matches:
        {{- range $r.paths }}
        - path:
            type: PathPrefix
            value: {{ . }}
        {{- end }}
      backendRefs:
        - name: {{ $service }}
          port: {{ $ctx.Values.web.service.port }}
{{- end -}}
