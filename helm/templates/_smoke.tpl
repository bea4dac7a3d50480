{{/*
The smoke test's containers, shared by the `helm test` Pods (tests/smoke-test.yaml: the
stable Service, and with blue/green the preview one) and the Argo Rollouts pre-promotion
analysis (web/rollout.yaml).
*/}}

{{/* Where the smoke test signs in by default: the Ingress's (or HTTPRoute's) HTTPS URL, else the Service. */}}
{{- define "wsgateway.smokeBaseUrl" -}}
{{- $t := .Values.tests.smoke -}}
{{- if $t.baseUrl -}}
{{- $t.baseUrl -}}
{{- else if or .Values.web.ingress.enabled .Values.web.httpRoute.enabled -}}
{{- printf "https://%s" (include "wsgateway.publicHost" .) -}}
{{- else -}}
{{- include "wsgateway.serviceUrl" (dict "ctx" . "suffix" "web") -}}
{{- end -}}
{{- end -}}

{{/* The preview color's: the preview Ingress's (or HTTPRoute's) HTTPS URL, else the preview Service. */}}
{{- define "wsgateway.previewSmokeBaseUrl" -}}
{{- with .Values.blueGreen.preview.ingressHost -}}
{{- printf "https://%s" . -}}
{{- else -}}
{{- include "wsgateway.serviceUrl" (dict "ctx" . "suffix" "web-preview") -}}
{{- end -}}
{{- end -}}

{{- define "wsgateway.serviceUrl" -}}
{{- printf "http://%s:%v" (include "wsgateway.componentName" (dict "ctx" .ctx "suffix" .suffix)) .ctx.Values.web.service.port -}}
{{- end -}}

{{/* Waits until a Service reports ready: (dict "ctx" $ "suffix" "web") */}}
{{- define "wsgateway.smokeWaitContainer" -}}
{{- $ctx := .ctx -}}
{{- $script := `import os, sys, time, urllib.request
url, host = os.environ["READY_URL"], os.environ["WS_INTEGRATION_HOST"]
for attempt in range(60):
    try:
        request = urllib.request.Request(url, headers={"Host": host})
        with urllib.request.urlopen(request, timeout=5) as answer:
            print(f"{url}: {answer.status}", flush=True)
            sys.exit(0)
    except Exception as error:
        print(f"{url}: not ready ({error})", flush=True)
        time.sleep(5)
sys.exit(f"{url} never became ready")
` -}}
{{- $env := list
  (dict "name" "READY_URL" "value" (printf "%s/health/ready/" (include "wsgateway.serviceUrl" .)))
  (dict "name" "WS_INTEGRATION_HOST" "value" $ctx.Values.config.integrationHost) -}}
{{- include "wsgateway.appContainer" (dict "ctx" $ctx "name" "wait-for-service" "command" (list "python" "-c" $script) "settings" false "env" $env "resources" $ctx.Values.tests.smoke.resources) -}}
{{- end -}}

{{/*
`python manage.py smoke_test`: (dict "ctx" $ "baseUrl" … "wsUrl" … "environment" … "logSource" …)
The origin is the stable one in every case: $connect goes through API Gateway, whose
integration Host is config.integrationHost, and the Origin must be that host or a subdomain.
*/}}
{{- define "wsgateway.smokeContainer" -}}
{{- $ctx := .ctx -}}
{{- $t := $ctx.Values.tests.smoke -}}
{{- $env := list
    (dict "name" "SMOKE_BASE_URL" "value" .baseUrl)
    (dict "name" "SMOKE_WS_URL" "value" .wsUrl)
    (dict "name" "SMOKE_ORIGIN" "value" (default (include "wsgateway.smokeBaseUrl" $ctx) $t.origin))
    (dict "name" "SMOKE_USERNAME" "value" $t.username)
    (dict "name" "SMOKE_CHANNEL" "value" $t.channel)
    (dict "name" "SMOKE_TIMEOUT_SECONDS" "value" (toString $t.timeoutSeconds))
    (dict "name" "SMOKE_DATABASE_STEPS" "value" "true")
    (dict "name" "SMOKE_ENVIRONMENT" "value" .environment)
    (dict "name" "SMOKE_LOG_SOURCE" "value" .logSource) -}}
{{- include "wsgateway.appContainer" (dict "ctx" $ctx "name" "smoke-test" "command" (list "python" "manage.py" "smoke_test") "smoke" true "env" $env "resources" $t.resources) -}}
{{- end -}}

{{/*
The smoke test's pod spec: (dict "ctx" $ "suffix" <Service to wait for> "identity" … or
"serviceAccount" … "automount" … and the smokeContainer arguments). The helm test Pods and the
Argo Rollouts analysis Job share it.
*/}}
{{- define "wsgateway.smokePodSpec" -}}
{{- include "wsgateway.podSpec" (dict "ctx" .ctx "identity" .identity "serviceAccount" .serviceAccount "automount" .automount "restartPolicy" "Never" "component" .ctx.Values.tests.smoke "initContainers" (include "wsgateway.smokeWaitContainer" (dict "ctx" .ctx "suffix" .suffix)) "containers" (include "wsgateway.smokeContainer" .)) -}}
{{- end -}}
