{{/*
Names. Kubernetes object names and label values are at most 63 characters; CronJob names at
most 52 (the Job controller appends 11). componentName truncates the prefix, never the suffix.
*/}}
{{- define "wsgateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "wsgateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* componentName: (dict "ctx" $ "suffix" "web" "max" 63) */}}
{{- define "wsgateway.componentName" -}}
{{- $max := default 63 .max | int -}}
{{- $room := sub $max (add1 (len .suffix)) | int -}}
{{- printf "%s-%s" (include "wsgateway.fullname" .ctx | trunc $room | trimSuffix "-") .suffix -}}
{{- end -}}

{{- define "wsgateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The running version: the image tag, else appVersion, as a valid label value. */}}
{{- define "wsgateway.version" -}}
{{- include "wsgateway.labelValue" (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "wsgateway.labelValue" -}}
{{- regexReplaceAll "[^A-Za-z0-9_.-]" . "_" | trunc 63 | trimSuffix "-" | trimSuffix "_" | trimSuffix "." -}}
{{- end -}}

{{/* Selector labels: (dict "ctx" $ "component" "web") */}}
{{- define "wsgateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wsgateway.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The recommended labels: (dict "ctx" $ "component" "web"), optionally "version" (a label
value) when the object runs another image than image.tag (a blue/green color). */}}
{{- define "wsgateway.labels" -}}
helm.sh/chart: {{ include "wsgateway.chart" .ctx }}
{{ include "wsgateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .version | default (include "wsgateway.version" .ctx) | quote }}
app.kubernetes.io/part-of: {{ .ctx.Values.partOf }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Every pod of the release (NetworkPolicy, smoke-test log selector). */}}
{{- define "wsgateway.releaseSelector" -}}
app.kubernetes.io/name: {{ include "wsgateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wsgateway.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* ServiceAccount names per identity. */}}
{{- define "wsgateway.serviceAccountName" -}}
{{- $sa := index .ctx.Values.serviceAccounts .identity -}}
{{- if $sa.name -}}
{{- $sa.name -}}
{{- else if $sa.create -}}
{{- include "wsgateway.componentName" (dict "ctx" .ctx "suffix" .identity) -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{- define "wsgateway.configMapName" -}}
{{- include "wsgateway.componentName" (dict "ctx" . "suffix" "config") -}}
{{- end -}}

{{/* The Secret the app reads: the existing one, or the chart's development Secret. */}}
{{- define "wsgateway.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- include "wsgateway.componentName" (dict "ctx" . "suffix" "secrets") -}}
{{- end -}}
{{- end -}}

{{/* The copy of the development Secret that exists before the pre-install migration hook. */}}
{{- define "wsgateway.hookSecretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- include "wsgateway.componentName" (dict "ctx" . "suffix" "migrations-secrets") -}}
{{- end -}}
{{- end -}}

{{/*
The non-secret settings, as NAME: "value" lines. The ConfigMap holds exactly these; hook Jobs,
which run before the ConfigMap exists, get the same lines as plain env entries.
*/}}
{{- define "wsgateway.configData" -}}
{{- $c := .Values.config -}}
DJANGO_ENV: {{ $c.djangoEnv | quote }}
ALLOWED_HOSTS: {{ include "wsgateway.allowedHosts" (dict "ctx" .) | quote }}
WS_INTEGRATION_HOST: {{ $c.integrationHost | quote }}
CSRF_TRUSTED_ORIGINS: {{ join "," $c.csrfTrustedOrigins | quote }}
{{- with $c.sessionCookieDomain }}
SESSION_COOKIE_DOMAIN: {{ . | quote }}
{{- end }}
AWS_GATEWAY_REGION_NAME: {{ $c.awsRegion | quote }}
WS_PUBLIC_URL: {{ $c.wsPublicUrl | quote }}
TRUSTED_PROXY_HOPS: {{ $c.trustedProxyHops | quote }}
FORWARDED_ALLOW_IPS: {{ $c.forwardedAllowIps | quote }}
WS_ALLOW_CLIENTS_WITHOUT_EXTENSIONS: {{ $c.allowClientsWithoutExtensions | quote }}
BROADCAST_FRAMES_PER_SECOND: {{ $c.broadcastFramesPerSecond | quote }}
ADMIN_ENABLED: {{ $c.admin.enabled | quote }}
ADMIN_URL: {{ $c.admin.path | quote }}
LOG_FORMAT: {{ $c.logFormat | quote }}
LOG_LEVEL: {{ $c.logLevel | quote }}
PORT: {{ .Values.web.containerPort | quote }}
OPS_PORT: {{ .Values.web.opsPort | quote }}
METRICS_REFRESH_SECONDS: {{ .Values.metrics.refreshSeconds | quote }}
DB_POOL_MIN_SIZE: {{ .Values.database.poolMinSize | quote }}
DB_POOL_MAX_SIZE: {{ .Values.database.poolMaxSize | quote }}
DB_POOL_TIMEOUT: {{ .Values.database.poolTimeout | quote }}
GUNICORN_WORKERS: {{ .Values.web.gunicorn.workers | quote }}
GUNICORN_THREADS: {{ .Values.web.gunicorn.threads | quote }}
GUNICORN_TIMEOUT: {{ .Values.web.gunicorn.timeout | quote }}
GUNICORN_GRACEFUL_TIMEOUT: {{ .Values.web.gunicorn.gracefulTimeout | quote }}
GUNICORN_KEEPALIVE: {{ .Values.web.gunicorn.keepalive | quote }}
GUNICORN_MAX_REQUESTS: {{ .Values.web.gunicorn.maxRequests | quote }}
GUNICORN_MAX_REQUESTS_JITTER: {{ .Values.web.gunicorn.maxRequestsJitter | quote }}
{{- with .Values.database.sslMode }}
PGSSLMODE: {{ . | quote }}
{{- end }}
{{- range $name, $value := $c.extra }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/*
ALLOWED_HOSTS, computed here only: config.allowedHosts (else the integration host), every host
the chart routes to the web pods (Ingress hosts, HTTPRoute hostnames, the blue/green preview
host), and with (dict "ctx" $ "podIp" true) the pod's own address, `$(POD_IP)`, which the web
container defines just before (kubelet probes and load balancer health checks send it as Host).
*/}}
{{- define "wsgateway.allowedHosts" -}}
{{- $v := .ctx.Values -}}
{{- $hosts := $v.config.allowedHosts -}}
{{- if not $hosts -}}{{- $hosts = list $v.config.integrationHost -}}{{- end -}}
{{- $routed := list -}}
{{- if $v.web.ingress.enabled -}}
{{- $routed = concat $routed (include "wsgateway.ingressHosts" .ctx | fromJsonArray) -}}
{{- end -}}
{{- if $v.web.httpRoute.enabled -}}
{{- $routed = concat $routed (include "wsgateway.routeHostnames" .ctx | fromJsonArray) -}}
{{- end -}}
{{- if $v.blueGreen.enabled -}}
{{- $routed = append $routed $v.blueGreen.preview.ingressHost -}}
{{- end -}}
{{- range $routed -}}
{{- if and . (not (has . $hosts)) -}}{{- $hosts = append $hosts . -}}{{- end -}}
{{- end -}}
{{- if .podIp -}}{{- $hosts = append $hosts "$(POD_IP)" -}}{{- end -}}
{{- join "," $hosts -}}
{{- end -}}

{{/* The hosts of the web Ingress, as a JSON list: web.ingress.host (else the integration
host), then web.ingress.extraHosts. */}}
{{- define "wsgateway.ingressHosts" -}}
{{- $i := .Values.web.ingress -}}
{{- $hosts := list (default .Values.config.integrationHost $i.host) -}}
{{- range $i.extraHosts -}}{{- $hosts = append $hosts .host -}}{{- end -}}
{{- $hosts | toJson -}}
{{- end -}}

{{/* The hostnames of the web HTTPRoute, as a JSON list: web.httpRoute.hostnames, else the
integration host without its port. */}}
{{- define "wsgateway.routeHostnames" -}}
{{- $r := .Values.web.httpRoute -}}
{{- if $r.hostnames -}}
{{- $r.hostnames | toJson -}}
{{- else -}}
{{- list (regexReplaceAll ":[0-9]+$" .Values.config.integrationHost "") | toJson -}}
{{- end -}}
{{- end -}}

{{/* The public host users and API Gateway reach: the Ingress's, else the HTTPRoute's first
hostname, else the integration host. */}}
{{- define "wsgateway.publicHost" -}}
{{- if .Values.web.ingress.enabled -}}
{{- default .Values.config.integrationHost .Values.web.ingress.host -}}
{{- else if .Values.web.httpRoute.enabled -}}
{{- first (include "wsgateway.routeHostnames" . | fromJsonArray) -}}
{{- else -}}
{{- .Values.config.integrationHost -}}
{{- end -}}
{{- end -}}

{{/* A secretKeyRef env entry: (dict "name" "SECRET_KEY" "secret" … "key" … "optional" false) */}}
{{- define "wsgateway.secretKeyRef" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/*
DATABASE_URL (docs/secrets.md): from the app Secret (secrets.keys.databaseUrl); or from
database.existingSecret, a Secret of its own, either whole (database.keys.url) or in parts.
Parts go to libpq's own variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD), which it
reads when the URL leaves them out: a password needs no URL escaping that way. DATABASE_URL then
names only the database, `postgres:///$(PGDATABASE)`, which the kubelet expands.
*/}}
{{- define "wsgateway.databaseEnv" -}}
{{- $d := .ctx.Values.database -}}
{{- if not $d.existingSecret -}}
{{ include "wsgateway.secretKeyRef" (dict "name" "DATABASE_URL" "secret" .secret "key" .ctx.Values.secrets.keys.databaseUrl) }}
{{- else if $d.keys.url -}}
{{ include "wsgateway.secretKeyRef" (dict "name" "DATABASE_URL" "secret" $d.existingSecret "key" $d.keys.url) }}
{{- else -}}
{{- range $name, $part := dict "PGHOST" "host" "PGPORT" "port" "PGDATABASE" "name" "PGUSER" "user" "PGPASSWORD" "password" }}
{{ include "wsgateway.secretKeyRef" (dict "name" $name "secret" $d.existingSecret "key" (index $d.keys $part)) }}
{{- end }}
- name: DATABASE_URL
  value: postgres:///$(PGDATABASE)
{{- end -}}
{{- end -}}

{{/*
Secret environment variables: (dict "ctx" $ "hook" false "smoke" false)
SECRET_KEY_FALLBACKS and the smoke password are optional keys of the Secret. DATABASE_URL and
WS_GATEWAY_SECRET may come from Secrets of their own (database.existingSecret,
secrets.gateway.existingSecret); SENTRY_DSN only does (secrets.sentry.existingSecret).
*/}}
{{- define "wsgateway.secretEnv" -}}
{{- $ctx := .ctx -}}
{{- $name := ternary (include "wsgateway.hookSecretName" $ctx) (include "wsgateway.secretName" $ctx) (default false .hook) -}}
{{- $k := $ctx.Values.secrets.keys -}}
{{- $gateway := $ctx.Values.secrets.gateway -}}
{{ include "wsgateway.secretKeyRef" (dict "name" "SECRET_KEY" "secret" $name "key" $k.secretKey) }}
{{ include "wsgateway.secretKeyRef" (dict "name" "SECRET_KEY_FALLBACKS" "secret" $name "key" $k.secretKeyFallbacks "optional" true) }}
{{ include "wsgateway.databaseEnv" (dict "ctx" $ctx "secret" $name) }}
{{- if $gateway.existingSecret }}
{{ include "wsgateway.secretKeyRef" (dict "name" "WS_GATEWAY_SECRET" "secret" $gateway.existingSecret "key" $gateway.key) }}
{{- else }}
{{ include "wsgateway.secretKeyRef" (dict "name" "WS_GATEWAY_SECRET" "secret" $name "key" $k.gatewaySecret) }}
{{- end }}
{{- with $ctx.Values.secrets.sentry.existingSecret }}
{{ include "wsgateway.secretKeyRef" (dict "name" "SENTRY_DSN" "secret" . "key" $ctx.Values.secrets.sentry.key) }}
{{- end }}
{{- if .smoke }}
{{ include "wsgateway.secretKeyRef" (dict "name" "SMOKE_PASSWORD" "secret" $name "key" $k.smokePassword) }}
{{- end }}
{{- end -}}

{{/*
The app container of every pod kind (web, each color, migrations, provisioning, CronJobs, the
smoke test and its wait step): one definition, the differences as arguments:
  ctx        the root context
  name       container name
  image      default: wsgateway.image (a blue/green color passes its own)
  command    list; args: list (optional)
  env        list of the kind's own env entries (after the secrets, before extraEnvVars)
  settings   default true: the ConfigMap (envFrom), the secrets and extraEnvVars*; false for a
             container that needs none of them (the smoke test's wait step)
  hook       true: the settings as plain env entries, for hooks that run before the ConfigMap
             exists (the migrations Job)
  smoke      true: also SMOKE_PASSWORD
  resources  the container's resources
  fields     other container fields as given (ports, probes, lifecycle)
*/}}
{{- define "wsgateway.appContainer" -}}
{{- $ctx := .ctx -}}
{{- $settings := or (not (hasKey . "settings")) .settings -}}
- name: {{ .name }}
  image: {{ .image | default (include "wsgateway.image" $ctx) }}
  imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
  command:
    {{- toYaml .command | nindent 4 }}
  {{- with .args }}
  args:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  env:
    {{- if and $settings .hook }}
    {{- range $name, $value := (include "wsgateway.configData" $ctx | fromYaml) }}
    - name: {{ $name }}
      value: {{ $value | toString | quote }}
    {{- end }}
    {{- end }}
    {{- if $settings }}
    {{- include "wsgateway.secretEnv" (dict "ctx" $ctx "hook" .hook "smoke" .smoke) | nindent 4 }}
    {{- end }}
    {{- with .env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- if $settings }}
    {{- with $ctx.Values.extraEnvVars }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- end }}
  {{- with (ternary (include "wsgateway.envFrom" (dict "ctx" $ctx "hook" .hook)) "" $settings | trim) }}
  envFrom:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with .fields }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $ctx.Values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    {{- include "wsgateway.volumeMounts" $ctx | nindent 4 }}
{{- end -}}

{{- define "wsgateway.envFrom" -}}
{{- $ctx := .ctx -}}
{{- if not .hook }}
- configMapRef:
    name: {{ include "wsgateway.configMapName" $ctx }}
{{- end }}
{{- with $ctx.Values.extraEnvVarsCM }}
- configMapRef:
    name: {{ . }}
{{- end }}
{{- with $ctx.Values.extraEnvVarsSecret }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end -}}

{{/*
The pod spec of every pod kind except the fields before `containers` that only web pods have:
  ctx             the root context
  identity        runtime | deploy | migrations (its ServiceAccount), or
  serviceAccount  a ServiceAccount name (the smoke test's own)
  automount       mount the ServiceAccount token (only the smoke test)
  restartPolicy   optional
  fields          pod fields as text (web: grace period, topology, scheduling), optional
  initContainers  the chart's own init containers as text, optional
  containers      the app container as text (wsgateway.appContainer)
  component       the component's values: its initContainers and sidecars are added here
*/}}
{{- define "wsgateway.podSpec" -}}
{{- $ctx := .ctx -}}
{{- with .restartPolicy }}
restartPolicy: {{ . }}
{{- end }}
{{- if .serviceAccount }}
serviceAccountName: {{ .serviceAccount }}
{{- else }}
serviceAccountName: {{ include "wsgateway.serviceAccountName" (dict "ctx" $ctx "identity" .identity) }}
{{- end }}
automountServiceAccountToken: {{ default false .automount }}
{{- include "wsgateway.podCommon" $ctx }}
{{- with .fields }}
{{ . }}
{{- end }}
{{- $init := include "wsgateway.extraContainers" (dict "ctx" $ctx "containers" .component.initContainers) }}
{{- if or .initContainers $init }}
initContainers:
  {{- with .initContainers }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- with $init }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end }}
containers:
  {{- .containers | nindent 2 }}
  {{- with (include "wsgateway.extraContainers" (dict "ctx" $ctx "containers" .component.sidecars)) }}
  {{- . | nindent 2 }}
  {{- end }}
volumes:
  {{- include "wsgateway.volumes" $ctx | nindent 2 }}
{{- end -}}

{{/* A component's initContainers or sidecars, templated (tpl): (dict "ctx" $ "containers" list) */}}
{{- define "wsgateway.extraContainers" -}}
{{- with .containers -}}
{{- tpl (toYaml .) $.ctx -}}
{{- end -}}
{{- end -}}

{{/* Pod labels: the object's labels plus the component's podLabels: (dict "labels" text "component" values) */}}
{{- define "wsgateway.podLabels" -}}
{{ .labels }}
{{- with .component.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
An `annotations:` block, or nothing: (dict "ctx" $ "annotations" dict "common" true).
common (default true) adds commonAnnotations: every object of the release carries them, pod
templates do not (their podAnnotations are per component).
*/}}
{{- define "wsgateway.annotations" -}}
{{- $all := dict -}}
{{- if or (not (hasKey . "common")) .common -}}
{{- $all = merge $all (deepCopy (default dict .ctx.Values.commonAnnotations)) -}}
{{- end -}}
{{- $all = mergeOverwrite $all (deepCopy (default dict .annotations)) -}}
{{- with $all }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Writable scratch space under the read-only root filesystem. */}}
{{- define "wsgateway.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolumes.tmpSizeLimit }}
- name: shm
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.tmpVolumes.shmSizeLimit }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "wsgateway.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: shm
  mountPath: /dev/shm
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The connection budget of docs/configuration.md, for NOTES.txt and the maxConnections check. */}}
{{- define "wsgateway.webMaxReplicas" -}}
{{- if .Values.web.autoscaling.enabled -}}{{ .Values.web.autoscaling.maxReplicas }}{{- else -}}{{ .Values.web.replicas }}{{- end -}}
{{- end -}}

{{- define "wsgateway.enabledCronJobs" -}}
{{- $n := 0 -}}
{{- if .Values.cronjobs.enabled -}}
{{- range $name, $job := .Values.cronjobs.jobs -}}
{{- if or (not (hasKey $job "enabled")) $job.enabled }}{{ $n = add1 $n }}{{ end -}}
{{- end -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{/*
Extra web pods while a Deployment rolls: web.maxSurge (a number, or a percentage of the
replicas rounded up, as Kubernetes does). An Argo Rollout starts a whole preview ReplicaSet
instead, which wsgateway.webCopies already counts.
*/}}
{{- define "wsgateway.webSurge" -}}
{{- $bg := .Values.blueGreen -}}
{{- $surge := toString .Values.web.maxSurge -}}
{{- $replicas := include "wsgateway.webMaxReplicas" . | int -}}
{{- if and $bg.enabled (eq $bg.mode "argo-rollouts") -}}
0
{{- else if hasSuffix "%" $surge -}}
{{- div (add (mul $replicas (trimSuffix "%" $surge | int)) 99) 100 -}}
{{- else -}}
{{- $surge | int -}}
{{- end -}}
{{- end -}}

{{/* Web pods that may run at once: every color that may run (wsgateway.webCopies), each at
its maximum replicas plus its rolling update's surge. */}}
{{- define "wsgateway.webPeakPods" -}}
{{- mul (include "wsgateway.webCopies" . | int) (add (include "wsgateway.webMaxReplicas" . | int) (include "wsgateway.webSurge" . | int)) -}}
{{- end -}}

{{- define "wsgateway.connectionBudget" -}}
{{- $web := mul (include "wsgateway.webPeakPods" . | int) .Values.web.gunicorn.workers .Values.database.poolMaxSize -}}
{{- $cron := mul (include "wsgateway.enabledCronJobs" . | int) .Values.database.poolMaxSize -}}
{{- add $web $cron 1 -}}
{{- end -}}

{{/* Pod-level fields shared by every pod of the release. */}}
{{- define "wsgateway.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}
