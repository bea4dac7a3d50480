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
value) when the object runs another image than image.tag (a blue/green colour). */}}
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
ALLOWED_HOSTS: {{ include "wsgateway.allowedHosts" . | quote }}
WS_INTEGRATION_HOST: {{ $c.integrationHost | quote }}
CSRF_TRUSTED_ORIGINS: {{ join "," $c.csrfTrustedOrigins | quote }}
{{- with $c.sessionCookieDomain }}
SESSION_COOKIE_DOMAIN: {{ . | quote }}
{{- end }}
AWS_GATEWAY_REGION_NAME: {{ $c.awsRegion | quote }}
WS_PUBLIC_URL: {{ $c.wsPublicUrl | quote }}
TRUSTED_PROXY_HOPS: {{ $c.trustedProxyHops | quote }}
FORWARDED_ALLOW_IPS: {{ $c.forwardedAllowIps | quote }}
ADMIN_ENABLED: {{ $c.admin.enabled | quote }}
ADMIN_URL: {{ $c.admin.path | quote }}
LOG_FORMAT: {{ $c.logFormat | quote }}
LOG_LEVEL: {{ $c.logLevel | quote }}
PORT: {{ .Values.web.containerPort | quote }}
OPS_PORT: {{ .Values.web.opsPort | quote }}
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
{{- range $name, $value := $c.extra }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "wsgateway.allowedHosts" -}}
{{- $hosts := .Values.config.allowedHosts -}}
{{- if not $hosts -}}{{- $hosts = list .Values.config.integrationHost -}}{{- end -}}
{{- $preview := .Values.blueGreen.preview.ingressHost -}}
{{- if and .Values.blueGreen.enabled $preview (not (has $preview $hosts)) -}}
{{- $hosts = append $hosts $preview -}}
{{- end -}}
{{- join "," $hosts -}}
{{- end -}}

{{/*
Secret environment variables: (dict "ctx" $ "hook" false "smoke" false)
SECRET_KEY_FALLBACKS and the smoke password are optional keys of the Secret.
*/}}
{{- define "wsgateway.secretEnv" -}}
{{- $ctx := .ctx -}}
{{- $name := ternary (include "wsgateway.hookSecretName" $ctx) (include "wsgateway.secretName" $ctx) (default false .hook) -}}
{{- $k := $ctx.Values.secrets.keys -}}
- name: SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ $k.secretKey }}
- name: SECRET_KEY_FALLBACKS
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ $k.secretKeyFallbacks }}
      optional: true
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ $k.databaseUrl }}
- name: WS_GATEWAY_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ $k.gatewaySecret }}
{{- if .smoke }}
- name: SMOKE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ $k.smokePassword }}
{{- end }}
{{- end -}}

{{/*
The environment of an app container: (dict "ctx" $ "hook" false "smoke" false "extra" list)
hook: true renders the settings as plain env (the ConfigMap may not exist yet); otherwise they
come from the ConfigMap with envFrom (see wsgateway.envFrom).
*/}}
{{- define "wsgateway.env" -}}
{{- $ctx := .ctx -}}
{{- if .hook }}
{{- range $name, $value := (include "wsgateway.configData" $ctx | fromYaml) }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{ include "wsgateway.secretEnv" . }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- with $ctx.Values.extraEnvVars }}
{{ toYaml . }}
{{- end }}
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

{{/* Blue/green counts every colour that may run at once (wsgateway.webCopies). */}}
{{- define "wsgateway.connectionBudget" -}}
{{- $web := mul (include "wsgateway.webCopies" . | int) (include "wsgateway.webMaxReplicas" . | int) .Values.web.gunicorn.workers .Values.database.poolMaxSize -}}
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
