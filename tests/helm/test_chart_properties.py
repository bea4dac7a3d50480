"""Properties of the rendered chart: probes on the app's real health paths, restricted security,
CronJob policies, one identity per role, secrets kept out of ConfigMaps, names and labels,
hooks, and the values schema."""

import ipaddress
import re

import pytest
from django.urls import resolve

from observability import ops_port
from tests.helm import support

VARIANTS = support.variants()
MINIMAL = VARIANTS["ci:minimal-values.yaml"]
RECOMMENDED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
)
SECRET_VARIABLES = {
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "DATABASE_URL",
    "WS_GATEWAY_SECRET",
    "SMOKE_PASSWORD",
    "PGUSER",
    "PGPASSWORD",
    "SENTRY_DSN",
}
# DATABASE_URL from parts (database.existingSecret) names only the database, which the kubelet
# expands from PGDATABASE: no secret in the pod spec.
DATABASE_URL_FROM_PARTS = "postgres:///$(PGDATABASE)"


def render(*layers):
    return support.render(support.values_for(*layers))


def containers(obj: dict, init: bool = True) -> list[dict]:
    spec = support.pod_spec(obj)
    return spec["containers"] + (spec.get("initContainers", []) if init else [])


def env_of(container: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def render_error(values: dict) -> str:
    sdk = support.helm()
    with pytest.raises(sdk.HelmError) as failure:
        support.render(values)
    return str(failure.value)


# --- web ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_web_probes_point_at_the_apps_health_endpoints(variant):
    workloads = support.web_workloads(support.render(VARIANTS[variant]))
    assert workloads
    for workload in workloads:
        assert_probes_on_health_endpoints(containers(workload)[0])


def assert_probes_on_health_endpoints(web: dict) -> None:
    port_names = {port["name"] for port in web["ports"]}
    expected = {
        "startupProbe": ("/health/ready/", "ready"),
        "readinessProbe": ("/health/ready/", "ready"),
    }
    for probe, (path, url_name) in expected.items():
        http_get = web[probe]["httpGet"]
        assert http_get["path"] == path
        assert http_get["port"] == "http"
        match = resolve(http_get["path"])  # the app's own URLconf: a real view, not a 404
        assert (match.namespace, match.url_name) == ("health", url_name)
    # Liveness: gunicorn's master on the ops port, which OPS_PORT tells gunicorn.conf.py.
    assert web["livenessProbe"]["httpGet"] == {"path": ops_port.LIVENESS_PATH, "port": "ops"}
    assert "ops" in port_names
    # The startup probe allows a slow first start (migrations, a cold database).
    startup = web["startupProbe"]
    assert startup["failureThreshold"] * startup["periodSeconds"] >= 120
    assert web["startupProbe"]["failureThreshold"] > web["readinessProbe"]["failureThreshold"]


def test_probes_can_be_overridden():
    objects = render(
        support.CHART / "ci" / "minimal-values.yaml",
        {"web": {"livenessProbe": {"httpGet": {"port": 8000}, "periodSeconds": 20}}},
    )
    web = containers(support.one(objects, "Deployment", "-web"))[0]
    # Helm merges maps: the keys given replace the defaults, the others stay.
    assert web["livenessProbe"] == {
        "httpGet": {"path": "/health/live/", "port": 8000},
        "periodSeconds": 20,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_web_rollout_drains_before_gunicorn_stops(variant):
    values = VARIANTS[variant]
    config = support.one(support.render(values), "ConfigMap", "-config")["data"]
    graceful = int(config["GUNICORN_GRACEFUL_TIMEOUT"])
    for workload in support.web_workloads(support.render(values)):
        if workload["kind"] == "Deployment":  # a Rollout switches blue/green instead
            assert workload["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        pod = support.pod_spec(workload)
        web = pod["containers"][0]
        sleep = int(web["lifecycle"]["preStop"]["exec"]["command"][1])
        assert web["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
        assert pod["terminationGracePeriodSeconds"] > sleep + graceful
        keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_a_grace_period_shorter_than_the_drain_is_refused():
    values = support.merge(MINIMAL, {"web": {"terminationGracePeriodSeconds": 25}})
    assert "terminationGracePeriodSeconds (25) must exceed" in render_error(values)


def test_hpa_replaces_fixed_replicas_and_scales_down_slowly():
    objects = support.render(VARIANTS["ci:hpa-values.yaml"])
    assert "replicas" not in support.one(objects, "Deployment", "-web")["spec"]
    hpa = support.one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"].endswith("-web")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 8)
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300
    assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}
    minimal = support.render(MINIMAL)
    assert not support.find(minimal, "HorizontalPodAutoscaler")
    assert support.one(minimal, "Deployment", "-web")["spec"]["replicas"] == 2


def test_pdb_selects_the_web_pods():
    objects = support.render(VARIANTS["ci:pdb-values.yaml"])
    pdb = support.one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 2 and "maxUnavailable" not in pdb["spec"]
    web_labels = support.one(objects, "Deployment", "-web")["spec"]["template"]["metadata"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= web_labels["labels"].items()


def test_config_changes_roll_the_pods():
    def checksum(values):
        deployment = support.one(support.render(values), "Deployment", "-web")
        return deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    changed = support.merge(MINIMAL, {"config": {"logLevel": "DEBUG"}})
    assert checksum(MINIMAL) != checksum(changed)
    assert checksum(MINIMAL) == checksum(dict(MINIMAL))


def test_pod_ip_is_an_allowed_host_for_probes_and_load_balancer_health_checks():
    web = containers(support.one(support.render(MINIMAL), "Deployment", "-web"))[0]
    env = env_of(web)
    names = [entry["name"] for entry in web["env"]]
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert names.index("POD_IP") < names.index("ALLOWED_HOSTS")  # $(POD_IP) expands
    assert env["ALLOWED_HOSTS"]["value"] == "app.example.com,$(POD_IP)"


def test_ingress_is_https_for_the_integration_host():
    objects = support.render(VARIANTS["env:prod"])
    ingress = support.one(objects, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTPS": 443}]'
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/health/ready/"
    assert ingress["spec"]["tls"][0]["hosts"] == ["app.example.com"]
    rule = ingress["spec"]["rules"][0]
    config = support.one(objects, "ConfigMap", "-config")["data"]
    assert rule["host"] == config["WS_INTEGRATION_HOST"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == support.one(objects, "Service")["metadata"]["name"]
    nginx = support.one(support.render(VARIANTS["ci:chart-secret-values.yaml"]), "Ingress")
    assert nginx["spec"]["tls"][0]["secretName"] == "app-example-com-tls"


# --- every pod --------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_pod_runs_restricted(variant):
    for obj in support.workloads(support.render(VARIANTS[variant])):
        spec = support.pod_spec(obj)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (10001, 10001, 10001)
        assert pod["seccompProfile"]["type"] == "RuntimeDefault"
        volumes = {v["name"]: v for v in spec["volumes"]}
        # Every container, the user's init containers and sidecars included (the CI values
        # give theirs the restricted context, as a namespace enforcing it would require).
        for container in containers(obj):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert context["runAsNonRoot"] is True
            assert container["resources"]["requests"] and container["resources"]["limits"]
        for container in support.app_containers(obj):
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108 - a mount path
            assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"  # noqa: S108


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_only_the_test_pod_mounts_a_service_account_token(variant):
    objects = support.render(VARIANTS[variant])
    for obj in support.workloads(objects):
        mounted = support.pod_spec(obj)["automountServiceAccountToken"]
        assert mounted is (obj["metadata"]["name"].endswith("-smoke-test")), obj["metadata"]
    for account in support.find(objects, "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_recommended_labels_everywhere(variant):
    for obj in support.chart_objects(support.render(VARIANTS[variant])):
        labels = obj["metadata"]["labels"]
        for label in RECOMMENDED_LABELS:
            assert labels.get(label), (obj["kind"], obj["metadata"]["name"], label)
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "wsgateway"
        if obj["kind"] in support.WORKLOAD_KINDS and obj["kind"] != "Pod":
            template = (
                obj["spec"]["jobTemplate"]["spec"]["template"]
                if obj["kind"] == "CronJob"
                else obj["spec"]["template"]
            )
            for label in RECOMMENDED_LABELS:
                assert template["metadata"]["labels"].get(label), (obj["metadata"]["name"], label)


def test_names_fit_kubernetes_limits_with_the_longest_release_name():
    release = "r" * 53  # Helm's maximum release name length
    values = support.merge(
        VARIANTS["ci:irsa-values.yaml"], {"cronjobs": {"jobs": {"x" * 30: {"command": ["true"]}}}}
    )
    objects = support.render(values, name=release)
    names = set()
    for obj in objects:
        name = obj["metadata"]["name"]
        limit = 52 if obj["kind"] == "CronJob" else 63
        assert len(name) <= limit, (obj["kind"], name)
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
        names.add((obj["kind"], name))
        for value in obj["metadata"]["labels"].values():
            assert len(value) <= 63
    assert len(names) == len(objects), "two objects of one kind share a name"


# --- secrets and settings ------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_secret_in_a_config_map(variant):
    values = VARIANTS[variant]
    objects = support.render(values)
    secret_values = [
        v for k, v in values.get("secrets", {}).get("create", {}).items() if k != "enabled" and v
    ]
    for config_map in support.find(support.chart_objects(objects), "ConfigMap"):
        assert not SECRET_VARIABLES & set(config_map["data"])
        for value in secret_values:
            assert value not in str(config_map["data"])
    for obj in support.workloads(objects):
        for container in containers(obj):
            for name, entry in env_of(container).items():
                if name == "DATABASE_URL" and entry.get("value") == DATABASE_URL_FROM_PARTS:
                    continue
                if name in SECRET_VARIABLES:
                    assert "value" not in entry and "secretKeyRef" in entry["valueFrom"], name


@pytest.mark.parametrize("name", ["DATABASE_URL", "SENTRY_DSN"])
def test_a_secret_in_config_extra_is_refused_by_the_schema(name):
    values = support.merge(MINIMAL, {"config": {"extra": {name: "postgres://x"}}})
    assert name in render_error(values)


def test_existing_secret_with_custom_keys():
    objects = support.render(VARIANTS["ci:existing-secret-values.yaml"])
    assert not support.find(objects, "Secret")
    web = containers(support.one(objects, "Deployment", "-web"))[0]
    refs = {
        name: entry["valueFrom"]["secretKeyRef"]
        for name, entry in env_of(web).items()
        if "valueFrom" in entry and "secretKeyRef" in entry["valueFrom"]
    }
    assert refs["DATABASE_URL"] == {"name": "platform-app-secrets", "key": "postgres-url"}
    assert refs["SECRET_KEY_FALLBACKS"]["optional"] is True
    assert {"configMapRef": {"name": "platform-settings"}} in web["envFrom"]
    assert {"secretRef": {"name": "platform-secrets"}} in web["envFrom"]
    assert env_of(web)["WS_TOKEN_EXPIRY_SECONDS"]["value"] == "45"
    assert {"name": "rds-ca", "mountPath": "/etc/ssl/rds", "readOnly": True} in web["volumeMounts"]


def test_secret_source_must_be_chosen():
    neither = support.merge(MINIMAL, {"secrets": {"existingSecret": ""}})
    assert "secrets.existingSecret is required" in render_error(neither)
    both = support.merge(
        VARIANTS["ci:chart-secret-values.yaml"], {"secrets": {"existingSecret": "x"}}
    )
    assert "not both" in render_error(both)


# --- migrations ----------------------------------------------------------------------------


def test_migrations_run_as_a_pre_install_hook_with_their_own_settings():
    objects = support.render(VARIANTS["ci:chart-secret-values.yaml"])
    job = support.one(objects, "Job", "-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    container = containers(job)[0]
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    # The release's ConfigMap does not exist yet at pre-install: settings are plain env.
    assert "envFrom" not in container
    env = env_of(container)
    assert env["WS_INTEGRATION_HOST"]["value"] == "app.example.com"
    # ... and the Secret and ServiceAccount it uses are hooks that run before it.
    weight = int(annotations["helm.sh/hook-weight"])
    secret_name = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
    account_name = support.pod_spec(job)["serviceAccountName"]
    for kind, name in (("Secret", secret_name), ("ServiceAccount", account_name)):
        dependency = next(o for o in objects if (o["kind"], o["metadata"]["name"]) == (kind, name))
        hook = dependency["metadata"]["annotations"]
        assert "pre-install" in hook["helm.sh/hook"]
        assert int(hook["helm.sh/hook-weight"]) < weight
    assert "eks.amazonaws.com/role-arn" not in str(support.find(objects, "ServiceAccount"))


def test_migrations_for_argocd_are_a_presync_job_without_helm_hooks():
    objects = support.render(VARIANTS["ci:gitops-migrations-values.yaml"])
    job = support.one(objects, "Job", "-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "PreSync"
    assert annotations["argocd.argoproj.io/sync-wave"] == "-2"
    assert not any(key.startswith("helm.sh/") for key in annotations)
    waves = [
        int(o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for o in objects
        if o["kind"] in ("Secret", "ServiceAccount")
        and "argocd.argoproj.io/sync-wave" in (o["metadata"].get("annotations") or {})
    ]
    assert waves and all(wave < -2 for wave in waves)


# --- CronJobs --------------------------------------------------------------------------


def test_cleanup_cronjobs_with_their_policies():
    objects = support.render(MINIMAL)
    cronjobs = {
        o["metadata"]["name"].removeprefix("wsgateway-"): o
        for o in objects
        if o["kind"] == "CronJob"
    }
    commands = {name: containers(job)[0]["command"] for name, job in cronjobs.items()}
    assert commands == {
        "sweep-stale-sessions": ["python", "manage.py", "sweep_stale_sessions"],
        "purge-disconnected-sessions": ["python", "manage.py", "purge_disconnected_sessions"],
        "cleanup-tokens": [
            "python", "manage.py", "cleanup_tokens", "--token-age", "300", "--rate-limit-age", "7",
        ],
        "deliver-broadcasts": ["python", "manage.py", "deliver_broadcasts"],
    }  # fmt: skip
    for job in cronjobs.values():
        spec = job["spec"]
        assert spec["schedule"] == "*/5 * * * *"
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["suspend"] is False
        assert spec["timeZone"] == "Etc/UTC"
        assert spec["startingDeadlineSeconds"] > 0
        assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
        job_spec = spec["jobTemplate"]["spec"]
        assert 0 < job_spec["activeDeadlineSeconds"] < 300  # shorter than the schedule
        assert support.pod_spec(job)["restartPolicy"] == "Never"
        assert support.pod_spec(job)["serviceAccountName"] == "wsgateway-runtime"


def test_cronjobs_can_be_switched_off_suspended_and_rescheduled():
    objects = support.render(VARIANTS["ci:chart-secret-values.yaml"])
    names = {o["metadata"]["name"]: o for o in support.find(objects, "CronJob")}
    assert "wsgateway-deliver-broadcasts" not in names
    tokens = names["wsgateway-cleanup-tokens"]["spec"]
    assert (tokens["schedule"], tokens["suspend"]) == ("*/15 * * * *", True)
    none = support.merge(MINIMAL, {"cronjobs": {"enabled": False}})
    assert not support.find(support.render(none), "CronJob")


# --- identities ----------------------------------------------------------------------------


def test_each_identity_has_its_own_service_account_and_role():
    objects = support.render(VARIANTS["ci:irsa-values.yaml"])
    accounts = {o["metadata"]["name"]: o for o in support.find(objects, "ServiceAccount")}

    def role_of(name):
        return (accounts[name]["metadata"].get("annotations") or {}).get(
            "eks.amazonaws.com/role-arn"
        )

    assert role_of("wsgateway-runtime").endswith(":role/wsgateway-prod-runtime")
    assert role_of("wsgateway-deploy").endswith(":role/wsgateway-prod-deploy")
    assert role_of("wsgateway-migrations") is None
    assert role_of("wsgateway-smoke-test") is None
    used = {
        o["metadata"]["name"]: support.pod_spec(o)["serviceAccountName"]
        for o in support.workloads(objects)
    }
    assert used["wsgateway-web"] == "wsgateway-runtime"
    assert used["wsgateway-provision"] == "wsgateway-deploy"
    assert used["wsgateway-migrate"] == "wsgateway-migrations"
    assert used["wsgateway-smoke-test"] == "wsgateway-smoke-test"
    assert {used[n] for n in used if support.find(objects, "CronJob", n)} == {"wsgateway-runtime"}


def test_provisioning_job_runs_the_package_commands_after_install():
    objects = support.render(VARIANTS["ci:irsa-values.yaml"])
    job = support.one(objects, "Job", "-provision")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    container = containers(job)[0]
    script = container["command"][-1]
    assert "for step in createApiGateway createCustomDomain updateApiGatewayIntegrations" in script
    assert env_of(container)["API_GATEWAY_PK"]["value"] == "1"
    assert not support.find(support.render(MINIMAL), "Job", "-provision")
    missing_pk = support.merge(MINIMAL, {"provisioning": {"enabled": True}})
    assert "apiGatewayPk" in render_error(missing_pk)


# --- helm test -----------------------------------------------------------------------------


def _selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in selector.split(","):
        if "!=" in term:
            key, value = term.split("!=")
            if labels.get(key) == value:
                return False
        else:
            key, value = term.split("=")
            if labels.get(key) != value:
                return False
    return True


def test_smoke_test_pod_reads_the_release_logs_with_a_minimal_role():
    objects = support.render(VARIANTS["env:prod"])
    pod = support.one(objects, "Pod", "-smoke-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    container = containers(pod, init=False)[0]
    assert container["command"] == ["python", "manage.py", "smoke_test"]
    env = env_of(container)
    assert "secretKeyRef" in env["DATABASE_URL"]["valueFrom"]  # the database steps run
    assert env["SMOKE_DATABASE_STEPS"]["value"] == "true"
    assert "secretKeyRef" in env["SMOKE_PASSWORD"]["valueFrom"]
    assert env["SMOKE_BASE_URL"]["value"] == "https://app.example.com"
    assert env["SMOKE_WS_URL"]["value"] == "wss://ws.example.com"
    source = env["SMOKE_LOG_SOURCE"]["value"]
    assert source.startswith("kubernetes:")
    selector = source.removeprefix("kubernetes:")
    web = support.one(objects, "Deployment", "-web")["spec"]["template"]["metadata"]["labels"]
    cron = support.find(objects, "CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]
    assert _selector_matches(selector, web)
    assert _selector_matches(selector, cron["metadata"]["labels"])
    assert not _selector_matches(selector, pod["metadata"]["labels"])
    # The init container waits for the release's Service.
    init = pod["spec"]["initContainers"][0]
    service = support.one(objects, "Service")["metadata"]["name"]
    assert env_of(init)["READY_URL"]["value"] == f"http://{service}:8000/health/ready/"
    role = support.one(objects, "Role", "-smoke-test")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}
    ]
    binding = support.one(objects, "RoleBinding", "-smoke-test")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["name"] == pod["spec"]["serviceAccountName"]
    for obj in (role, binding, support.one(objects, "ServiceAccount", "-smoke-test")):
        hook = obj["metadata"]["annotations"]
        assert hook["helm.sh/hook"] == "test"
        assert int(hook["helm.sh/hook-weight"]) < 0


def test_smoke_test_without_ingress_targets_the_service():
    pod = support.one(support.render(MINIMAL), "Pod", "-smoke-test")
    env = env_of(containers(pod, init=False)[0])
    assert env["SMOKE_BASE_URL"]["value"] == "http://wsgateway-web:8000"


# --- network policy ------------------------------------------------------------------------


def test_network_policy_limits_ingress_and_egress():
    objects = support.render(VARIANTS["ci:networkpolicy-values.yaml"])
    policies = {o["metadata"]["name"]: o["spec"] for o in support.find(objects, "NetworkPolicy")}
    web = policies["wsgateway-web"]
    assert web["policyTypes"] == ["Ingress"]
    sources = web["ingress"][0]["from"]
    assert {"ipBlock": {"cidr": "10.0.0.0/16"}} in sources
    release = policies["wsgateway-release"]
    assert set(release["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in release  # nothing but the web policy's sources gets in
    egress = {
        (p["port"], p["protocol"]): rule.get("to")
        for rule in release["egress"]
        for p in rule["ports"]
    }
    assert (53, "UDP") in egress and (53, "TCP") in egress
    assert egress[(5432, "TCP")] == [{"ipBlock": {"cidr": "10.0.100.0/24"}}]
    assert egress[(443, "TCP")] == [
        {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}
    ]
    assert (80, "TCP") not in egress  # no Pod Identity agent unless asked


def test_network_policies_are_on_by_default_and_keep_pods_from_the_metadata_service():
    policies = {
        o["metadata"]["name"]: o["spec"]
        for o in support.find(support.render(MINIMAL), "NetworkPolicy")
    }
    assert set(policies) == {"wsgateway-release", "wsgateway-web"}
    egress = policies["wsgateway-release"]["egress"]
    peers = [peer for rule in egress for peer in rule.get("to", [])]
    for peer in peers:
        block = peer.get("ipBlock")
        if block and ipaddress.ip_network("169.254.169.254/32").subnet_of(
            ipaddress.ip_network(block["cidr"])
        ):
            assert "169.254.0.0/16" in block.get("except", []), block
    with_agent = support.render(
        support.merge(MINIMAL, {"networkPolicy": {"podIdentityAgent": True}})
    )
    (release,) = [
        o
        for o in support.find(with_agent, "NetworkPolicy")
        if o["metadata"]["name"].endswith("release")
    ]
    assert {"ipBlock": {"cidr": "169.254.170.23/32"}} in [
        peer for rule in release["spec"]["egress"] for peer in rule.get("to", [])
    ]


# --- values: schema, removed keys, budget ------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"web": {"replicass": 3}}, "replicass"),
        ({"imagee": {"tag": "1"}}, "imagee"),
        ({"migrations": {"mode": "hooks"}}, "mode"),
        ({"web": {"gunicorn": {"workers": "two"}}}, "workers"),
        ({"cronjobs": {"jobs": {"sweep-stale-sessions": {"schedul": "* * * * *"}}}}, "schedul"),
    ],
)
def test_schema_rejects_typos_and_wrong_types(override, message):
    error = render_error(support.merge(MINIMAL, override))
    assert "schema" in error and message in error


def test_removed_keys_fail_with_their_replacement():
    error = render_error(support.merge(MINIMAL, {"replicaCount": 3}))
    assert "`replicaCount` was removed; use `web.replicas`" in error


def test_connection_budget_above_max_connections_is_refused():
    values = support.merge(MINIMAL, {"web": {"replicas": 10}, "database": {"maxConnections": 100}})
    # (10 replicas + 3 surging: 25 % rounded up) x 2 workers x 6 + 4 CronJobs x 6 + 1 = 181
    assert "connection budget (181" in render_error(values)
    notes = support.render_templates(MINIMAL)["wsgateway/templates/NOTES.txt"]
    assert "total: 61" in notes  # (2 + 1) x 2 x 6 + 4 x 6 + 1


@pytest.mark.parametrize(
    ("web", "peak"),
    [
        ({"replicas": 4, "maxSurge": "25%"}, 5),
        ({"replicas": 4, "maxSurge": "50%"}, 6),
        ({"replicas": 4, "maxSurge": 3}, 7),
        ({"replicas": 4, "maxSurge": 0}, 4),
        ({"autoscaling": {"enabled": True, "maxReplicas": 9}, "maxSurge": "10%"}, 10),
    ],
)
def test_connection_budget_counts_the_pods_a_rolling_update_adds(web, peak):
    values = support.merge(MINIMAL, {"web": web})
    objects = support.render(values)
    for deployment in support.web_workloads(objects):
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == web["maxSurge"]
    notes = support.render_templates(values)["wsgateway/templates/NOTES.txt"]
    assert f"= {peak} pods x 2 workers" in notes
    assert f"total: {peak * 2 * 6 + 4 * 6 + 1}" in notes


# --- environments --------------------------------------------------------------------------


def test_environments_are_separate():
    seen: dict[str, set] = {}
    for env in support.ENVIRONMENTS:
        values = VARIANTS[f"env:{env}"]
        facts = {
            "host": values["config"]["integrationHost"],
            "websocket": values["config"]["wsPublicUrl"],
            "secret": values["secrets"]["existingSecret"],
            "runtime role": values["serviceAccounts"]["runtime"]["roleArn"],
            "deploy role": values["serviceAccounts"]["deploy"]["roleArn"],
        }
        for fact, value in facts.items():
            assert value not in seen.setdefault(fact, set()), (env, fact, value)
            seen[fact].add(value)
        assert env in facts["runtime role"] and env in facts["deploy role"]
    prod = VARIANTS["env:prod"]
    assert prod["web"]["autoscaling"]["enabled"] and prod["networkPolicy"]["enabled"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_gunicorn_trusts_forwarded_headers_from_named_networks_only(variant):
    """Never `*`: X-Forwarded-Proto and -For are believed only from the load balancer's
    subnets (gunicorn trusts no path header at all: tests/test_gunicorn_forwarding.py)."""
    config_map = support.one(support.render(VARIANTS[variant]), "ConfigMap", "-config")
    allowed = config_map["data"]["FORWARDED_ALLOW_IPS"]
    assert "*" not in allowed
    for network in allowed.split(","):
        ipaddress.ip_network(network.strip())  # an address or a CIDR, nothing else


def test_prod_serves_no_admin():
    (config_map,) = support.find(support.render(VARIANTS["env:prod"]), "ConfigMap")
    assert config_map["data"]["ADMIN_ENABLED"] == "false"


def test_the_chart_runs_only_the_production_profile():
    values = support.merge(MINIMAL, {"config": {"djangoEnv": "development"}})
    assert "djangoEnv" in render_error(values)


def test_the_test_pods_rights_are_deleted_after_the_test():
    objects = support.render(MINIMAL)
    rights = [
        obj
        for kind in ("ServiceAccount", "Role", "RoleBinding")
        for obj in support.find(objects, kind)
        if (obj["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"
    ]
    assert len(rights) == 3
    for obj in rights:
        policy = obj["metadata"]["annotations"]["helm.sh/hook-delete-policy"].split(",")
        assert {"hook-succeeded", "hook-failed"} <= set(policy), (obj["kind"], policy)


def test_the_shared_fan_out_rate_is_a_chart_setting():
    """config.broadcastFramesPerSecond reaches Django (docs/broadcasts.md, the shared rate)."""
    values = support.merge(VARIANTS["env:prod"], {"config": {"broadcastFramesPerSecond": 1500}})
    config_map = support.one(support.render(values), "ConfigMap", "-config")
    assert config_map["data"]["BROADCAST_FRAMES_PER_SECOND"] == "1500"


@pytest.mark.parametrize("allowed", [False, True])
def test_native_clients_without_extensions_are_a_chart_setting(allowed):
    """config.allowClientsWithoutExtensions reaches Django (docs/configuration.md)."""
    values = support.merge(
        VARIANTS["env:prod"], {"config": {"allowClientsWithoutExtensions": allowed}}
    )
    config_map = support.one(support.render(values), "ConfigMap", "-config")
    assert config_map["data"]["WS_ALLOW_CLIENTS_WITHOUT_EXTENSIONS"] == str(allowed).lower()
