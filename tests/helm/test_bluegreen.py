"""Blue/green in the chart (blueGreen.*, docs/blue-green.md): the stable Service selects exactly
one color and the preview Service the other; switching is one value and touches no pod; the
shared parts exist once; and, for Argo Rollouts, a structural check of the custom resources
that kubernetes-validate has no schema for."""

import copy

import pytest

from tests.helm import support

CI = support.CHART / "ci"
BLUE_LIVE = support.values_for(CI / "bluegreen-blue-values.yaml")
GREEN_LIVE = support.values_for(CI / "bluegreen-green-values.yaml")
ARGO = support.values_for(CI / "bluegreen-argo-values.yaml")
MINIMAL = support.values_for(CI / "minimal-values.yaml")
COLOR_LABEL = "wsgateway/color"

# Fields of Argo Rollouts v1.x's Rollout and AnalysisTemplate specs that this chart may use: a
# misspelt or invented field fails here, as kubernetes-validate --strict would for core kinds.
ROLLOUT_SPEC_FIELDS = {"replicas", "revisionHistoryLimit", "selector", "template", "strategy"}
BLUE_GREEN_FIELDS = {
    "activeService",
    "previewService",
    "autoPromotionEnabled",
    "scaleDownDelaySeconds",
    "prePromotionAnalysis",
}
METRIC_FIELDS = {"name", "count", "failureLimit", "provider"}


def selects(selector: dict[str, str], workload: dict) -> bool:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return selector.items() <= labels.items()


def service(objects: list[dict], name: str) -> dict:
    return next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == name)


def colors(objects: list[dict]) -> dict[str, dict]:
    return {d["metadata"]["labels"][COLOR_LABEL]: d for d in support.find(objects, "Deployment")}


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


# --- services mode ---------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "active"), [(BLUE_LIVE, "blue"), (GREEN_LIVE, "green")])
def test_stable_service_selects_exactly_the_active_color_and_preview_the_other(values, active):
    objects = support.render(values)
    deployments = colors(objects)
    assert set(deployments) == {"blue", "green"}
    idle = "green" if active == "blue" else "blue"
    for name, expected in (("wsgateway-web", active), ("wsgateway-web-preview", idle)):
        selector = service(objects, name)["spec"]["selector"]
        assert selector[COLOR_LABEL] == expected
        chosen = [color for color, d in deployments.items() if selects(selector, d)]
        assert chosen == [expected], (name, chosen)
    # Each Deployment owns exactly its own color's pods.
    for color, deployment in deployments.items():
        assert deployment["metadata"]["name"] == f"wsgateway-web-{color}"
        assert deployment["spec"]["selector"]["matchLabels"][COLOR_LABEL] == color
        assert selects(deployment["spec"]["selector"]["matchLabels"], deployment)
    # The Ingress API Gateway calls goes to the stable Service.
    for ingress in support.find(objects, "Ingress", "-web"):
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == "wsgateway-web"


def test_each_color_runs_its_own_image_and_version():
    deployments = colors(support.render(BLUE_LIVE))
    for color, tag in (("blue", "1.4.2"), ("green", "1.5.0")):
        pod = deployments[color]["spec"]["template"]
        assert pod["spec"]["containers"][0]["image"] == f"wsgateway-app:{tag}"
        assert pod["metadata"]["labels"]["app.kubernetes.io/version"] == tag
    digest = "sha256:" + "ab" * 32
    pinned = support.merge(BLUE_LIVE, {"blueGreen": {"green": {"digest": digest}}})
    green = colors(support.render(pinned))["green"]
    assert support.pod_spec(green)["containers"][0]["image"] == f"wsgateway-app@{digest}"


def test_switching_is_one_value_and_rolls_no_pod():
    """`helm upgrade --set blueGreen.activeColor=green` and `helm rollback` change the Services'
    selectors and nothing a pod is made from: no color restarts on a switch."""
    switched = support.merge(BLUE_LIVE, {"blueGreen": {"activeColor": "green"}})
    before, after = support.render(BLUE_LIVE), support.render(switched)
    assert colors(before) == colors(after)
    assert service(after, "wsgateway-web")["spec"]["selector"][COLOR_LABEL] == "green"
    assert service(after, "wsgateway-web-preview")["spec"]["selector"][COLOR_LABEL] == "blue"
    changed = {
        (o["kind"], o["metadata"]["name"])
        for o in after
        if o not in before and o["kind"] not in ("Pod",)  # test pods: see the preview test
    }
    assert changed == {("Service", "wsgateway-web"), ("Service", "wsgateway-web-preview")}


def test_shared_parts_exist_once():
    plain = {(o["kind"], o["metadata"]["name"]) for o in support.render(MINIMAL)}
    blue_green = support.values_for(MINIMAL, {"blueGreen": BLUE_LIVE["blueGreen"]})
    objects = support.render(blue_green)
    for kind in ("Job", "CronJob", "ServiceAccount", "ConfigMap", "PodDisruptionBudget"):
        names = sorted(o["metadata"]["name"] for o in support.find(objects, kind))
        assert names == sorted(name for k, name in plain if k == kind), kind
    # Both colors read the same settings and the same Secret.
    sources = {
        str(support.pod_spec(d)["containers"][0]["envFrom"]) for d in colors(objects).values()
    }
    assert len(sources) == 1


def test_blue_green_is_off_by_default():
    objects = support.render(MINIMAL)
    deployment = support.one(objects, "Deployment")
    assert deployment["metadata"]["name"] == "wsgateway-web"
    assert COLOR_LABEL not in deployment["spec"]["selector"]["matchLabels"]
    assert [s["metadata"]["name"] for s in support.find(objects, "Service")] == ["wsgateway-web"]
    assert not support.find(objects, "Rollout") and not support.find(objects, "AnalysisTemplate")


def test_the_scaled_down_color_keeps_its_deployment_at_zero_and_no_hpa():
    objects = support.render(GREEN_LIVE)
    assert colors(objects)["blue"]["spec"]["replicas"] == 0
    assert colors(objects)["green"]["spec"]["replicas"] == 3
    hpas = support.find(support.render(BLUE_LIVE), "HorizontalPodAutoscaler")
    assert sorted(h["spec"]["scaleTargetRef"]["name"] for h in hpas) == [
        "wsgateway-web-blue",
        "wsgateway-web-green",
    ]
    autoscaled_green_live = support.merge(GREEN_LIVE, {"web": {"autoscaling": {"enabled": True}}})
    hpas = support.find(support.render(autoscaled_green_live), "HorizontalPodAutoscaler")
    assert [h["spec"]["scaleTargetRef"]["name"] for h in hpas] == ["wsgateway-web-green"]


def test_a_scaled_down_active_color_is_refused():
    values = support.merge(GREEN_LIVE, {"blueGreen": {"activeColor": "blue"}})
    with pytest.raises(support.helm().HelmError) as failure:
        support.render(values)
    assert "blueGreen.blue.running is false" in str(failure.value)


def test_preview_smoke_test_targets_the_idle_color_while_it_runs():
    objects = support.render(BLUE_LIVE)
    pod = support.one(objects, "Pod", "-preview-smoke-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["serviceAccountName"] == "wsgateway-smoke-test"
    wait, smoke = pod["spec"]["initContainers"][0], pod["spec"]["containers"][0]
    assert env_of(wait)["READY_URL"] == "http://wsgateway-web-preview:8000/health/ready/"
    env = env_of(smoke)
    assert env["SMOKE_BASE_URL"] == "https://preview.app.example.com"
    # $connect goes through API Gateway to the integration host: the stable origin.
    assert env["SMOKE_ORIGIN"] == "https://app.example.com"
    assert "preview (green)" in env["SMOKE_ENVIRONMENT"]
    # The preview host is served by the preview Service, and Django accepts it.
    preview = support.one(objects, "Ingress", "-web-preview")
    assert preview["spec"]["rules"][0]["host"] == "preview.app.example.com"
    backend = preview["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "wsgateway-web-preview"
    allowed = support.one(objects, "ConfigMap")["data"]["ALLOWED_HOSTS"].split(",")
    assert "preview.app.example.com" in allowed
    # Without a preview Ingress it calls the preview Service; with the idle color scaled
    # down there is nothing to test.
    no_ingress = support.merge(BLUE_LIVE, {"blueGreen": {"preview": {"ingressHost": ""}}})
    pod = support.one(support.render(no_ingress), "Pod", "-preview-smoke-test")
    assert env_of(pod["spec"]["containers"][0])["SMOKE_BASE_URL"] == (
        "http://wsgateway-web-preview:8000"
    )
    assert not support.find(support.render(GREEN_LIVE), "Pod", "-preview-smoke-test")


def test_connection_budget_counts_both_running_colors():
    notes = support.render_templates(GREEN_LIVE)["wsgateway/templates/NOTES.txt"]
    assert "green is live behind wsgateway-web" in notes
    # 1 color x (3 replicas + 1 surging) x 2 workers x 6 + 4 CronJobs x 6 + 1
    assert "total: 73" in notes
    both = support.merge(GREEN_LIVE, {"blueGreen": {"blue": {"running": True}}})
    notes = support.render_templates(both)["wsgateway/templates/NOTES.txt"]
    assert "total: 121" in notes  # 2 colors x (3 + 1) x 2 x 6 + 4 x 6 + 1
    # An Argo Rollout starts a whole preview ReplicaSet (counted as the second color) and
    # surges no further.
    argo = support.merge(ARGO, {"web": {"autoscaling": {"maxReplicas": 6}}})
    notes = support.render_templates(argo)["wsgateway/templates/NOTES.txt"]
    assert "total: 169" in notes  # 2 x (6 + 0) x 2 x 6 + 4 x 6 + 1
    refused = support.merge(both, {"database": {"maxConnections": 90}})
    with pytest.raises(support.helm().HelmError, match="connection budget"):
        support.render(refused)


# --- argo-rollouts mode ------------------------------------------------------------------------


def test_argo_rollout_switches_between_the_two_services():
    objects = support.render(ARGO)
    assert not support.find(objects, "Deployment")
    rollout = support.one(objects, "Rollout")
    assert rollout["apiVersion"] == "argoproj.io/v1alpha1"
    spec = rollout["spec"]
    assert set(spec) <= ROLLOUT_SPEC_FIELDS, set(spec) - ROLLOUT_SPEC_FIELDS
    assert "replicas" not in spec  # the HPA scales the Rollout
    assert selects(spec["selector"]["matchLabels"], rollout)
    blue_green = spec["strategy"]["blueGreen"]
    assert set(spec["strategy"]) == {"blueGreen"}
    assert set(blue_green) <= BLUE_GREEN_FIELDS, set(blue_green) - BLUE_GREEN_FIELDS
    assert blue_green["activeService"] == "wsgateway-web"
    assert blue_green["previewService"] == "wsgateway-web-preview"
    assert (blue_green["autoPromotionEnabled"], blue_green["scaleDownDelaySeconds"]) == (True, 120)
    for name in (blue_green["activeService"], blue_green["previewService"]):
        # Argo adds rollouts-pod-template-hash to these selectors itself.
        assert selects(service(objects, name)["spec"]["selector"], rollout)
    hpa = support.one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "wsgateway-web",
    }
    templates = blue_green["prePromotionAnalysis"]["templates"]
    analysis = support.one(objects, "AnalysisTemplate")
    assert templates == [{"templateName": analysis["metadata"]["name"]}]


def test_argo_analysis_runs_the_smoke_test_against_the_preview():
    analysis = support.one(support.render(ARGO), "AnalysisTemplate")
    assert analysis["apiVersion"] == "argoproj.io/v1alpha1"
    [metric] = analysis["spec"]["metrics"]
    assert set(metric) <= METRIC_FIELDS, set(metric) - METRIC_FIELDS
    assert (metric["count"], metric["failureLimit"]) == (1, 0)
    job = metric["provider"]["job"]
    pod = job["spec"]["template"]["spec"]
    smoke = pod["containers"][0]
    assert smoke["command"] == ["python", "manage.py", "smoke_test"]
    env = env_of(smoke)
    assert env["SMOKE_BASE_URL"] == "https://preview.app.example.com"
    assert env["SMOKE_LOG_SOURCE"] == "none"  # no Kubernetes token in this pod
    assert env_of(pod["initContainers"][0])["READY_URL"] == (
        "http://wsgateway-web-preview:8000/health/ready/"
    )
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"] + pod["initContainers"]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("kube_version", support.KUBE_VERSIONS)
def test_argo_objects_embed_valid_kubernetes(kube_version):
    """What kubernetes-validate can check inside the Argo objects: the Rollout's pod template
    (as a Deployment's) and the analysis Job, both --strict."""
    import kubernetes_validate

    objects = support.manifests(support.render(ARGO))
    rollout = support.one(objects, "Rollout")
    as_deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": copy.deepcopy(rollout["metadata"]),
        "spec": {k: rollout["spec"][k] for k in ("selector", "template")},
    }
    kubernetes_validate.validate(as_deployment, kube_version, strict=True)
    analysis = support.one(objects, "AnalysisTemplate")
    job = analysis["spec"]["metrics"][0]["provider"]["job"]
    as_job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "analysis", **job["metadata"]},
        "spec": job["spec"],
    }
    kubernetes_validate.validate(as_job, kube_version, strict=True)


def test_argo_rollouts_with_the_alb_ingress_class_is_refused():
    values = support.merge(ARGO, {"web": {"ingress": {"className": "alb"}}})
    with pytest.raises(support.helm().HelmError) as failure:
        support.render(values)
    assert "use blueGreen.mode services" in str(failure.value)
