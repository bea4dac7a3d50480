{{/*
The web tier's workloads. Without blue/green: one rolling Deployment `<fullname>-web`. With
blueGreen.enabled (docs/blue-green.md): a Deployment per colour (`services` mode) or one Argo
Rollout (`argo-rollouts` mode), all from the same pod template below, so the colours differ
only in their image and their colour label.
*/}}

{{/* The label that tells the colours apart; the stable and preview Services select on it. */}}
{{- define "wsgateway.colorLabel" -}}
wsgateway/color
{{- end -}}

{{/* The colour that is not `color`. */}}
{{- define "wsgateway.otherColor" -}}
{{- ternary "green" "blue" (eq . "blue") -}}
{{- end -}}

{{/* blueGreen.<color>, or an empty dict without a colour. */}}
{{- define "wsgateway.colorValues" -}}
{{- if .color -}}
{{- index .ctx.Values.blueGreen .color | toJson -}}
{{- else -}}
{{- dict | toJson -}}
{{- end -}}
{{- end -}}

{{/* The image of a colour: (dict "ctx" $ "color" "blue"); its digest, its tag, else image.*. */}}
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

{{/* app.kubernetes.io/version of a colour: its tag, else the release's version. */}}
{{- define "wsgateway.colorVersion" -}}
{{- $c := include "wsgateway.colorValues" . | fromJson -}}
{{- if $c.tag -}}
{{- include "wsgateway.labelValue" $c.tag -}}
{{- else -}}
{{- include "wsgateway.version" .ctx -}}
{{- end -}}
{{- end -}}

{{/* Selector of the web pods, of one colour when "color" is set: (dict "ctx" $ "color" "") */}}
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

{{/* Does this colour run pods? Always true without a colour. */}}
{{- define "wsgateway.colorRunning" -}}
{{- $c := include "wsgateway.colorValues" . | fromJson -}}
{{- if or (not .color) $c.running -}}true{{- end -}}
{{- end -}}

{{/* How many copies of the web tier may run at once: 1, or 2 while both colours run. */}}
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
metadata:
  labels:
    {{- include "wsgateway.webLabels" . | nindent 4 }}
    {{- with $w.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # Changed settings roll the pods.
    checksum/config: {{ include "wsgateway.configData" $ctx | sha256sum }}
    {{- if $ctx.Values.secrets.create.enabled }}
    checksum/secret: {{ toJson $ctx.Values.secrets.create | sha256sum }}
    {{- end }}
    {{- with $ctx.Values.secrets.rolloutToken }}
    checksum/secret-rollout-token: {{ . | sha256sum }}
    {{- end }}
    {{- with $w.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "wsgateway.serviceAccountName" (dict "ctx" $ctx "identity" "runtime") }}
  automountServiceAccountToken: false
  {{- include "wsgateway.podCommon" $ctx | nindent 2 }}
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
          {{- include "wsgateway.selectorLabels" (dict "ctx" $ctx "component" "web") | nindent 10 }}
      matchLabelKeys:
        - pod-template-hash
    - maxSkew: {{ $w.topologySpread.maxSkew }}
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: {{ $w.topologySpread.nodeWhenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "wsgateway.selectorLabels" (dict "ctx" $ctx "component" "web") | nindent 10 }}
      matchLabelKeys:
        - pod-template-hash
    {{- end }}
    {{- range $w.extraTopologySpreadConstraints }}
    - {{- toYaml (merge (deepCopy .) (dict "labelSelector" (dict "matchLabels" (include "wsgateway.selectorLabels" (dict "ctx" $ctx "component" "web") | fromYaml)))) | nindent 6 }}
    {{- end }}
  {{- end }}
  {{- with $w.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $w.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $w.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: web
      image: {{ include "wsgateway.colorImage" . }}
      imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
      command:
        {{- toYaml $w.command | nindent 8 }}
      ports:
        - name: http
          containerPort: {{ $w.containerPort }}
          protocol: TCP
        - name: ops
          containerPort: {{ $w.opsPort }}
          protocol: TCP
      {{- $extra := list }}
      {{- if $w.allowPodIpHost }}
      {{- $extra = list (dict "name" "POD_IP" "valueFrom" (dict "fieldRef" (dict "fieldPath" "status.podIP"))) (dict "name" "ALLOWED_HOSTS" "value" (printf "%s,$(POD_IP)" (include "wsgateway.allowedHosts" $ctx))) }}
      {{- end }}
      env:
        {{- include "wsgateway.env" (dict "ctx" $ctx "extra" $extra) | nindent 8 }}
      envFrom:
        {{- include "wsgateway.envFrom" (dict "ctx" $ctx) | nindent 8 }}
      {{- range $probe := list "startupProbe" "livenessProbe" "readinessProbe" }}
      {{ $probe }}:
        {{- toYaml (index $w $probe) | nindent 8 }}
      {{- end }}
      lifecycle:
        preStop:
          # Endpoints and the load balancer stop routing here first; then gunicorn gets
          # SIGTERM and GUNICORN_GRACEFUL_TIMEOUT for in-flight callbacks.
          exec:
            command: ["sleep", "{{ $w.preStopSleepSeconds }}"]
      resources:
        {{- toYaml $w.resources | nindent 8 }}
      securityContext:
        {{- toYaml $ctx.Values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        {{- include "wsgateway.volumeMounts" $ctx | nindent 8 }}
  volumes:
    {{- include "wsgateway.volumes" $ctx | nindent 4 }}
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
spec:
  {{- if not (include "wsgateway.colorRunning" .) }}
  # The idle colour, scaled down: the Deployment stays so the next deploy or a rollback
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
      maxSurge: 25%
  template:
    {{- include "wsgateway.webPodTemplate" . | nindent 4 }}
{{- end -}}

{{/* Name of the web workload (and its HPA): (dict "ctx" $ "color" "") */}}
{{- define "wsgateway.webName" -}}
{{- include "wsgateway.componentName" (dict "ctx" .ctx "suffix" (ternary (printf "web-%s" .color) "web" (not (empty .color)))) -}}
{{- end -}}

{{/* The colours whose web workloads this release renders: "" (one Deployment) or blue, green. */}}
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
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
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

{{/* An Ingress to the Service of the same suffix: (dict "ctx" $ "suffix" "web" "host" "…") */}}
{{- define "wsgateway.webIngress" -}}
{{- $ctx := .ctx -}}
{{- $i := $ctx.Values.web.ingress -}}
{{- $host := .host -}}
{{- $service := include "wsgateway.componentName" (dict "ctx" $ctx "suffix" .suffix) -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $service }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "wsgateway.labels" (dict "ctx" $ctx "component" "web") | nindent 4 }}
  {{- with $i.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $i.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- if $i.tls.enabled }}
  tls:
    - hosts:
        - {{ $host | quote }}
      {{- with $i.tls.secretName }}
      secretName: {{ . }}
      {{- end }}
  {{- end }}
  rules:
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
{{- end -}}
