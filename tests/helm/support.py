"""Rendering the chart the way `helm template -f … -f …` does, with helm-python-sdk (Helm v4's
own engine: no helm binary), and small helpers over the rendered objects."""

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
ENVIRONMENTS = ("dev", "staging", "prod")
RELEASE = "wsgateway"
NAMESPACE = "realtime"
# The oldest and the newest Kubernetes versions the chart supports (Chart.yaml kubeVersion).
KUBE_VERSIONS = ("1.28.0", "1.37.0")

HOOK_ANNOTATION = "helm.sh/hook"


def install_hint(what: str) -> str:
    return (
        f"{what} is not installed in this virtualenv: `make helm-tools` installs the chart's test "
        "tools (requirements/checkov.lock)"
    )


def helm():
    try:
        import helm_python
    except ImportError as error:  # pragma: no cover - the message is the point
        raise AssertionError(install_hint("helm-python-sdk")) from error
    return helm_python


def environment_values(env: str) -> Path:
    return ROOT / "k8s" / "environments" / env / "values.yaml"


def read_values(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of -f files: maps merge key by key, anything else replaces, null
    deletes the key."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def values_for(*layers: Path | dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = merge(merged, read_values(layer) if isinstance(layer, Path) else layer)
    return merged


@functools.lru_cache(maxsize=64)
def _render_cached(values_json: str, name: str, namespace: str) -> tuple[tuple[str, str], ...]:
    sdk = helm()
    with sdk.Chart.load(CHART) as chart:
        rendered = chart.render(
            values=json.loads(values_json), name=name, namespace=namespace, is_install=True
        )
    return tuple(sorted(rendered.items()))


def render_templates(
    values: dict[str, Any], name: str = RELEASE, namespace: str = NAMESPACE
) -> dict[str, str]:
    """Template path -> rendered text (NOTES.txt included), as `helm template` would print."""
    return dict(_render_cached(json.dumps(values, sort_keys=True), name, namespace))


def render(values: dict[str, Any], name: str = RELEASE, namespace: str = NAMESPACE) -> list[dict]:
    """Every rendered Kubernetes object, each with the template it came from in `_template`."""
    objects = []
    for template, text in render_templates(values, name, namespace).items():
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                document["_template"] = template
                objects.append(document)
    return objects


def manifests(objects: list[dict]) -> list[dict]:
    """The objects without the `_template` bookkeeping key."""
    return [{k: v for k, v in o.items() if k != "_template"} for o in objects]


def find(objects: list[dict], kind: str, suffix: str | None = None) -> list[dict]:
    return [
        o
        for o in objects
        if o["kind"] == kind and (suffix is None or o["metadata"]["name"].endswith(suffix))
    ]


def one(objects: list[dict], kind: str, suffix: str | None = None) -> dict:
    found = find(objects, kind, suffix)
    assert len(found) == 1, f"expected one {kind} *{suffix or ''}, found {len(found)}"
    return found[0]


def pod_spec(obj: dict) -> dict:
    """The pod spec inside a Pod, a Deployment, a Job or a CronJob."""
    kind = obj["kind"]
    if kind == "Pod":
        return obj["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


# An Argo Rollout (blueGreen.mode argo-rollouts) holds its pod template where a Deployment does.
WORKLOAD_KINDS = ("Deployment", "Rollout", "Job", "CronJob", "Pod")
# Custom resources of Argo Rollouts: kubernetes-validate has no schema for them, so
# tests/helm/test_bluegreen.py checks their structure instead.
ARGO_KINDS = ("Rollout", "AnalysisTemplate")
# Every custom resource the chart or its CI values render, none known to kubernetes-validate:
# Argo's, the Gateway API's HTTPRoute and External Secrets' ExternalSecret (their structure is
# checked in tests/helm/test_bluegreen.py and test_chart_extensions.py).
CUSTOM_KINDS = (*ARGO_KINDS, "HTTPRoute", "ExternalSecret", "ServiceMonitor", "PrometheusRule")
# extraObjects are the user's own manifests, rendered as given.
EXTRA_OBJECTS_TEMPLATE = "wsgateway/templates/extra-objects.yaml"


def workloads(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def web_workloads(objects: list[dict]) -> list[dict]:
    """The web tier: one Deployment, a Deployment per blue/green color, or the Rollout."""
    return [
        o
        for o in objects
        if o["kind"] in ("Deployment", "Rollout")
        and o["metadata"]["labels"]["app.kubernetes.io/component"] == "web"
    ]


def chart_objects(objects: list[dict]) -> list[dict]:
    """The chart's own objects, without the user's extraObjects."""
    return [o for o in objects if o["_template"] != EXTRA_OBJECTS_TEMPLATE]


def app_containers(obj: dict) -> list[dict]:
    """The containers the chart itself renders (wsgateway.appContainer): the first container
    of every pod, and the smoke test's wait step; the others are the user's initContainers
    and sidecars."""
    spec = pod_spec(obj)
    waits = [c for c in spec.get("initContainers", []) if c["name"] == "wait-for-service"]
    return [spec["containers"][0], *waits]


def is_hook(obj: dict) -> bool:
    return HOOK_ANNOTATION in (obj["metadata"].get("annotations") or {})


# Every variant the tests render: each environment, and each CI values file (standalone, as
# chart-testing uses them).
def variants() -> dict[str, dict[str, Any]]:
    found = {f"env:{env}": values_for(environment_values(env)) for env in ENVIRONMENTS}
    for path in CI_VALUES:
        found[f"ci:{path.name}"] = values_for(path)
    return found


def expand(value: str, known: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: earlier variables only; $$ escapes."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        return known.get(match.group(1), match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", replace, value)


def resolve_env(container: dict, objects: list[dict], pod_ip: str) -> dict[str, str]:
    """A container's environment as the kubelet builds it from the rendered objects: envFrom
    first, then each env entry in order (values expanded, secretKeyRef and configMapKeyRef
    read from the Secrets and ConfigMaps in `objects`, stringData or data as given)."""
    config_maps = {
        o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"
    }
    secrets = {
        o["metadata"]["name"]: o.get("stringData", {}) for o in objects if o["kind"] == "Secret"
    }
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]])
        else:
            env.update(secrets[source["secretRef"]["name"]])
    for entry in container.get("env", []):
        name = entry["name"]
        if "value" in entry:
            env[name] = expand(entry["value"], env)
            continue
        source = entry["valueFrom"]
        if "fieldRef" in source:
            fields = {"status.podIP": pod_ip, "metadata.namespace": NAMESPACE}
            env[name] = fields[source["fieldRef"]["fieldPath"]]
        else:
            kind, store = (
                ("secretKeyRef", secrets)
                if "secretKeyRef" in source
                else ("configMapKeyRef", config_maps)
            )
            ref = source[kind]
            data = store[ref["name"]]
            if ref["key"] in data:
                env[name] = data[ref["key"]]
            else:
                assert ref.get("optional"), f"{name}: {ref['name']} has no key {ref['key']}"
    return env
