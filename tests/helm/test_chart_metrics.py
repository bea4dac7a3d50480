"""The chart's metrics wiring: the web pods serve /metrics on the ops port, which only the
metrics Service, the ServiceMonitor and Prometheus's namespace reach, never the Ingress."""

from tests.helm import support

MONITORING = support.values_for(support.CHART / "ci" / "monitoring-values.yaml")
MINIMAL = support.values_for(support.CHART / "ci" / "minimal-values.yaml")
OPS_PORT = 8081


def env_of(obj: dict, objects: list[dict]) -> dict[str, str]:
    """The ConfigMap's variables and the container's literal ones (no Secret needed)."""
    container = support.app_containers(obj)[0]
    config_maps = {o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "ConfigMap"}
    env = {}
    for source in container.get("envFrom", []):
        env.update(config_maps.get(source.get("configMapRef", {}).get("name"), {}))
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


def test_off_by_default_no_monitoring_objects():
    kinds = {o["kind"] for o in support.render(MINIMAL)}
    assert not kinds & {"ServiceMonitor", "PrometheusRule"}
    assert not support.find(support.render(MINIMAL), "Service", "-metrics")


def test_web_pods_keep_metrics_on_the_tmpfs_and_name_their_color():
    objects = support.render(MONITORING)
    for web in support.web_workloads(objects):
        env = env_of(web, objects)
        assert env["PROMETHEUS_MULTIPROC_DIR"] == "/dev/shm/wsgateway-metrics"  # noqa: S108
        assert env["DEPLOYMENT_COLOR"] == web["metadata"]["name"].rsplit("-", 1)[1]
        assert env["METRICS_REFRESH_SECONDS"] == "30"
    # The Jobs keep their values in memory: no multiprocess directory to create there.
    for job in support.find(objects, "CronJob"):
        assert "PROMETHEUS_MULTIPROC_DIR" not in env_of(job, objects)


def test_the_metrics_service_and_servicemonitor_reach_the_ops_port_of_every_color():
    objects = support.render(MONITORING)
    service = support.one(objects, "Service", "-metrics")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["ops"]
    assert "wsgateway/color" not in service["spec"]["selector"]
    monitor = support.one(objects, "ServiceMonitor")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == "ops"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_nothing_routed_from_outside_reaches_the_ops_port():
    for values in (MONITORING, support.values_for(support.CHART / "ci" / "httproute-values.yaml")):
        objects = support.render(values)
        for service in support.find(objects, "Service"):
            if service["metadata"]["name"].endswith("-metrics"):
                continue
            assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
        for ingress in support.find(objects, "Ingress"):
            for rule in ingress["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    assert not path["backend"]["service"]["name"].endswith("-metrics")
        for route in support.find(objects, "HTTPRoute"):
            for rule in route["spec"]["rules"]:
                for ref in rule["backendRefs"]:
                    assert not ref["name"].endswith("-metrics")


def test_the_network_policy_opens_the_ops_port_to_prometheus_only():
    objects = support.render(MONITORING)
    policy = support.one(objects, "NetworkPolicy", "-web")
    ops_rules = [
        rule
        for rule in policy["spec"]["ingress"]
        if any(p["port"] == OPS_PORT for p in rule["ports"])
    ]
    assert len(ops_rules) == 1
    assert ops_rules[0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
