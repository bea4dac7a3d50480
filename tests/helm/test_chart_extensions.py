"""The extension points users know from other Django charts: commonAnnotations, per-component
podLabels, podAnnotations, initContainers and sidecars, an Ingress with several hosts and TLS
entries, a Gateway API HTTPRoute, and extraObjects; and the one app-container definition
every pod kind shares."""

import pytest

from tests.helm import support

VARIANTS = support.variants()
MINIMAL = VARIANTS["ci:minimal-values.yaml"]
EXTENSIONS = VARIANTS["ci:extensions-values.yaml"]
ROUTE = VARIANTS["ci:httproute-values.yaml"]
# Each component's values key and the pods it renders (by object name suffix).
COMPONENTS = {
    "web": ("web", ("Deployment", "-web")),
    "migrations": ("migrations", ("Job", "-migrate")),
    "cronjobs": ("cronjobs.defaults", ("CronJob", "-sweep-stale-sessions")),
    "provisioning": ("provisioning", ("Job", "-provision")),
    "smoke": ("tests.smoke", ("Pod", "-smoke-test")),
}


def pod_metadata(obj: dict) -> dict:
    if obj["kind"] == "Pod":
        return obj["metadata"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
    return obj["spec"]["template"]["metadata"]


def nested(path: str, value) -> dict:
    """{"a": {"b": value}} from "a.b"."""
    for part in reversed(path.split(".")):
        value = {part: value}
    return value


def test_common_annotations_are_on_every_object_and_keep_the_hooks():
    objects = support.chart_objects(support.render(EXTENSIONS))
    for obj in objects:
        annotations = obj["metadata"]["annotations"]
        assert annotations["team.example.com/owner"] == "realtime", obj["metadata"]["name"]
    migrate = support.one(objects, "Job", "-migrate")["metadata"]["annotations"]
    assert migrate["helm.sh/hook"] == "pre-install,pre-upgrade"
    # Pod templates take the component's podAnnotations, not the common ones.
    web = support.one(objects, "Deployment", "-web")
    assert "team.example.com/owner" not in pod_metadata(web)["annotations"]


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_pod_labels_and_annotations_per_component(component):
    objects = support.render(EXTENSIONS)
    _, (kind, suffix) = COMPONENTS[component]
    metadata = pod_metadata(support.one(objects, kind, suffix))
    assert metadata["labels"]["team.example.com/tier"] in {component, "sweeper", "cleanup", "smoke"}
    assert metadata["labels"]["app.kubernetes.io/instance"] == support.RELEASE
    if component == "web":
        assert metadata["annotations"]["fluentbit.io/exclude"] == "false"
        assert "checksum/config" in metadata["annotations"]  # still rolls on config changes
    else:
        assert metadata["annotations"]["team.example.com/runbook"].startswith("docs/")


def test_a_cronjob_overrides_the_default_pod_labels():
    objects = support.render(EXTENSIONS)
    labels = {
        o["metadata"]["name"]: pod_metadata(o)["labels"]["team.example.com/tier"]
        for o in support.find(objects, "CronJob")
    }
    assert labels.pop("wsgateway-sweep-stale-sessions") == "sweeper"
    assert set(labels.values()) == {"cleanup"}


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_init_containers_and_sidecars_per_component_are_templated(component):
    path, (kind, suffix) = COMPONENTS[component]
    extra = {
        "initContainers": [
            {"name": "first", "image": "{{ .Values.image.repository }}:init", "command": ["true"]}
        ],
        "sidecars": [{"name": "beside", "image": "{{ .Release.Name }}-proxy:1.0"}],
    }
    values = support.merge(MINIMAL, nested(path, extra))
    if component == "provisioning":
        values = support.merge(values, {"provisioning": {"enabled": True, "apiGatewayPk": 1}})
    spec = support.pod_spec(support.one(support.render(values), kind, suffix))
    init = {c["name"]: c for c in spec["initContainers"]}
    sidecars = {c["name"]: c for c in spec["containers"]}
    assert init["first"]["image"] == "wsgateway-app:init"
    assert sidecars["beside"]["image"] == "wsgateway-proxy:1.0"
    # The chart's own come first: the app container, the smoke test's wait step.
    assert spec["containers"][0]["name"] != "beside"
    if component == "smoke":
        assert spec["initContainers"][0]["name"] == "wait-for-service"


def test_ingress_with_several_hosts_and_tls_entries():
    objects = support.render(EXTENSIONS)
    ingress = support.one(objects, "Ingress")
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert hosts == ["app.example.com", "www.example.com", "realtime.example.org"]
    for rule in ingress["spec"]["rules"]:
        backend = rule["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": "wsgateway-web", "port": {"name": "http"}}
    assert ingress["spec"]["tls"] == [
        {"hosts": ["app.example.com"], "secretName": "app-example-com-tls"},
        {"hosts": ["www.example.com"], "secretName": "www-example-com-tls"},
        {"hosts": ["realtime.example.org"], "secretName": "realtime-example-org-tls"},
    ]
    # Django serves every routed host.
    allowed = support.one(objects, "ConfigMap", "-config")["data"]["ALLOWED_HOSTS"].split(",")
    assert set(hosts) <= set(allowed)


def test_httproute_sends_its_hostnames_to_the_web_services():
    objects = support.render(ROUTE)
    assert not support.find(objects, "Ingress")
    routes = {o["metadata"]["name"]: o for o in support.find(objects, "HTTPRoute")}
    assert set(routes) == {"wsgateway-web", "wsgateway-web-preview"}
    services = {o["metadata"]["name"]: o for o in support.find(objects, "Service")}
    for name, route in routes.items():
        spec = route["spec"]
        assert set(spec) == {"parentRefs", "hostnames", "rules"}
        assert spec["parentRefs"] == [
            {"name": "public", "namespace": "gateway-system", "sectionName": "https"}
        ]
        (rule,) = spec["rules"]
        assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
        (backend,) = rule["backendRefs"]
        assert backend["name"] == name and backend["name"] in services
        assert backend["port"] == services[name]["spec"]["ports"][0]["port"]
        assert route["metadata"]["annotations"]["team.example.com/owner"] == "realtime"
    assert routes["wsgateway-web"]["spec"]["hostnames"] == ["app.example.com", "www.example.com"]
    assert routes["wsgateway-web-preview"]["spec"]["hostnames"] == ["preview.app.example.com"]
    allowed = support.one(objects, "ConfigMap", "-config")["data"]["ALLOWED_HOSTS"].split(",")
    assert {"app.example.com", "www.example.com", "preview.app.example.com"} <= set(allowed)
    # The smoke test signs in through the Gateway over HTTPS, as through an Ingress.
    pod = support.one(objects, "Pod", "wsgateway-smoke-test")
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["SMOKE_BASE_URL"] == "https://app.example.com"


def test_httproute_without_a_gateway_is_refused():
    values = support.merge(MINIMAL, {"web": {"httpRoute": {"enabled": True}}})
    sdk = support.helm()
    with pytest.raises(sdk.HelmError, match="parentRefs is required"):
        support.render(values)


def test_httproute_defaults_to_the_integration_host_without_its_port():
    values = support.merge(
        MINIMAL,
        {
            "config": {"integrationHost": "app.example.com:8443"},
            "web": {"httpRoute": {"enabled": True, "parentRefs": [{"name": "public"}]}},
        },
    )
    route = support.one(support.render(values), "HTTPRoute")
    assert route["spec"]["hostnames"] == ["app.example.com"]


def test_extra_objects_are_rendered_and_templated():
    objects = support.render(EXTENSIONS)
    extra = {
        o["metadata"]["name"]: o
        for o in objects
        if o["_template"] == support.EXTRA_OBJECTS_TEMPLATE
    }
    assert set(extra) == {"wsgateway-fluent-bit", "wsgateway-release-info"}
    assert extra["wsgateway-release-info"]["data"]["chart"].startswith("wsgateway-")
    assert all(o["metadata"]["namespace"] == support.NAMESPACE for o in extra.values())
    # The web pods mount the first one (extraVolumes) for their sidecar.
    volumes = support.pod_spec(support.one(objects, "Deployment", "-web"))["volumes"]
    assert {"name": "fluent-bit-config", "configMap": {"name": "wsgateway-fluent-bit"}} in volumes


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_pod_kind_runs_the_one_app_container_definition(variant):
    """wsgateway.appContainer renders each pod kind's app container: image pull policy,
    security context, mounts, the ConfigMap and the secrets are the same everywhere."""
    objects = support.render(VARIANTS[variant])
    apps = [
        (obj, container)
        for obj in support.workloads(objects)
        for container in support.app_containers(obj)
        if container["name"] != "wait-for-service"
    ]
    assert len(apps) >= 5
    reference = apps[0][1]
    secret_env = {
        e["name"]: e for e in reference["env"] if e["name"] in {"SECRET_KEY", "WS_GATEWAY_SECRET"}
    }
    for obj, container in apps:
        for field in ("imagePullPolicy", "securityContext", "volumeMounts"):
            assert container[field] == reference[field], (obj["metadata"]["name"], field)
        env = {e["name"]: e for e in container["env"]}
        for name, entry in secret_env.items():
            if obj["metadata"]["name"].endswith("-migrate"):  # a chart-made Secret's hook copy
                assert (
                    env[name]["valueFrom"]["secretKeyRef"]["key"]
                    == (entry["valueFrom"]["secretKeyRef"]["key"])
                )
            else:
                assert env[name] == entry, (obj["metadata"]["name"], name)
