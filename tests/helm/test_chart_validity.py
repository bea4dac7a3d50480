"""The chart lints clean, and what it renders is valid Kubernetes for the oldest and the newest
version it supports, with current API versions only, for every environment and CI variant."""

import copy

import pytest
import yaml

from tests.helm import support

VARIANTS = support.variants()

# The stable API version of every kind the chart renders. A kind outside this map, or another
# apiVersion for it (a removed beta such as batch/v1beta1 or policy/v1beta1), fails the test.
CURRENT_API_VERSIONS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "ServiceAccount": "v1",
    "Pod": "v1",
    "Deployment": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "PodDisruptionBudget": "policy/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "Ingress": "networking.k8s.io/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
    # Argo Rollouts' custom resources (blueGreen.mode argo-rollouts).
    "Rollout": "argoproj.io/v1alpha1",
    "AnalysisTemplate": "argoproj.io/v1alpha1",
    # The Gateway API (web.httpRoute) and External Secrets (extraObjects in the CI values).
    "HTTPRoute": "gateway.networking.k8s.io/v1",
    "ExternalSecret": "external-secrets.io/v1",
    # prometheus-operator's (metrics.serviceMonitor, metrics.prometheusRule).
    "ServiceMonitor": "monitoring.coreos.com/v1",
    "PrometheusRule": "monitoring.coreos.com/v1",
}


def _validator():
    try:
        import kubernetes_validate
    except ImportError as error:
        raise AssertionError(support.install_hint("kubernetes-validate")) from error
    return kubernetes_validate


def test_chart_metadata_names_the_supported_kubernetes_versions():
    chart = yaml.safe_load((support.CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    oldest, newest = support.KUBE_VERSIONS
    assert chart["kubeVersion"].startswith(f">={oldest}-0")
    major, minor, _ = newest.split(".")
    assert f"<{major}.{int(minor) + 1}.0-0" in chart["kubeVersion"]
    assert chart["version"] and chart["appVersion"]


@pytest.mark.parametrize("kube_version", support.KUBE_VERSIONS)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_lint_strict_is_clean(variant, kube_version):
    report = support.helm().lint(
        support.CHART, VARIANTS[variant], strict=True, kube_version=f"v{kube_version}"
    )
    # Severity 1 is informational ("icon is recommended"); 2 warning, 3 error.
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"] and not problems, (report["errors"], problems)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_client_side_dry_run_install_succeeds(variant):
    """What `helm install --dry-run=client` does: schema, render, kubeVersion, NOTES."""
    sdk = support.helm()
    empty_kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"
    with sdk.Config(
        storage_driver="memory",
        namespace=support.NAMESPACE,
        kubeconfig_content=empty_kubeconfig,
    ) as config:
        release = config.install(
            str(support.CHART), support.RELEASE, VARIANTS[variant], dry_run="client"
        )
    assert "helm test" in release["notes"]
    assert "kind: Deployment" in release["manifest"] or "kind: Rollout" in release["manifest"]


@pytest.mark.parametrize("kube_version", support.KUBE_VERSIONS)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_manifest_is_valid_kubernetes(variant, kube_version):
    validate = _validator().validate
    for manifest in support.manifests(support.render(VARIANTS[variant])):
        # kubernetes-validate ships schemas for Kubernetes' own kinds only, none for custom
        # resources: test_bluegreen.py and test_chart_extensions.py check their structure.
        if manifest["kind"] in support.CUSTOM_KINDS:
            continue
        validate(manifest, kube_version, strict=True)


@pytest.mark.parametrize("kube_version", support.KUBE_VERSIONS)
def test_the_strict_validation_catches_an_unknown_field(kube_version):
    """So the test above would notice a misspelt field (its value lies in this)."""
    kv = _validator()
    deployment = support.one(
        support.manifests(support.render(VARIANTS["ci:minimal-values.yaml"])), "Deployment"
    )
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, kube_version, strict=True)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_only_current_api_versions(variant):
    for obj in support.render(VARIANTS[variant]):
        expected = CURRENT_API_VERSIONS.get(obj["kind"])
        assert expected, f"{obj['kind']} is not a kind this test knows: add its stable version"
        assert obj["apiVersion"] == expected, (obj["kind"], obj["apiVersion"])


@pytest.mark.parametrize("kube_version", support.KUBE_VERSIONS)
def test_cluster_prerequisites_are_valid_kubernetes(kube_version):
    validate = _validator().validate
    paths = sorted((support.ROOT / "k8s" / "prerequisites").glob("*.yaml"))
    assert paths
    for path in paths:
        for manifest in yaml.safe_load_all(path.read_text()):
            if manifest:
                assert manifest["apiVersion"] == CURRENT_API_VERSIONS[manifest["kind"]]
                validate(manifest, kube_version, strict=True)


def test_packaged_chart_holds_the_chart_only(tmp_path):
    import tarfile

    archive = support.helm().package(support.CHART, destination=tmp_path)
    with tarfile.open(archive) as packed:
        names = {name.split("/", 1)[1] for name in packed.getnames()}
    assert {"Chart.yaml", "values.yaml", "values.schema.json", "README.md"} <= names
    assert "templates/NOTES.txt" in names and "templates/web/deployment.yaml" in names
    leaked = {
        n for n in names if n.startswith("ci/") or n in {".checkov.yaml", "generate_readme.py"}
    }
    assert not leaked, leaked
