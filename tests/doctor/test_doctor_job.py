"""`make doctor ENV=…`: two Jobs made from the chart's rendered provisioning Job (never a
template in helm/), checked against Kubernetes' schema, and the target run with a fake helm and
kubectl that record what they were asked and answer as a cluster would."""

import os
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

from scripts.doctor_job import doctor_jobs
from tests.helm import support

PROD = {"provisioning": {"enabled": True, "apiGatewayPk": 3}}


@pytest.fixture(scope="module")
def prod_objects() -> list[dict]:
    values = support.values_for(support.environment_values("prod"), PROD)
    return support.manifests(support.render(values, namespace="wsgateway-prod"))


def test_the_jobs_run_the_doctor_under_the_deploy_and_the_runtime_identities(prod_objects):
    deploy, runtime = doctor_jobs(prod_objects)

    assert [deploy["metadata"]["name"], runtime["metadata"]["name"]] == [
        "wsgateway-doctor",
        "wsgateway-doctor-runtime",
    ]
    pods = [job["spec"]["template"]["spec"] for job in (deploy, runtime)]
    assert [pod["serviceAccountName"] for pod in pods] == ["wsgateway-deploy", "wsgateway-runtime"]
    assert [pod["containers"][0]["command"] for pod in pods] == [
        ["python", "manage.py", "gateway_doctor", "--pk", "3", "--skip", "management-api"],
        ["python", "manage.py", "gateway_doctor", "--pk", "3", "--only", "management-api"],
    ]
    web = support.one(prod_objects, "Deployment", "-web")
    assert {pod["containers"][0]["image"] for pod in pods} == {
        support.pod_spec(web)["containers"][0]["image"]
    }


def test_the_jobs_are_no_helm_hooks_and_valid_kubernetes(prod_objects):
    for job in doctor_jobs(prod_objects, pk="7", extra=["--json"]):
        assert "annotations" not in job["metadata"]
        assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "make-doctor"
        assert job["spec"]["backoffLimit"] == 0
        assert job["spec"]["template"]["spec"]["containers"][0]["command"][3:6] == [
            "--pk",
            "7",
            "--json",
        ]
        for version in support.KUBE_VERSIONS:
            kubernetes_validate.validate(job, version, strict=True)


FAKE_KUBECTL = """#!/bin/sh
echo "$@" >> "$FAKE_DIR/kubectl.log"
case "$*" in
  *" apply -f "*) cp "$5" "$FAKE_DIR/applied-$(basename "$5")" ;;
  *" get job "*) echo "$FAKE_JOB_STATUS" ;;
  *" logs "*) echo "✓ fake report of $4" ;;
esac
"""


@pytest.fixture
def fake_cluster(tmp_path, prod_objects):
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(prod_objects))
    helm = tmp_path / "helm"
    helm.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/helm.log"\ncat "{rendered}"\n')
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    for script in (helm, kubectl):
        script.chmod(0o755)
    return tmp_path


def make_doctor(fake_cluster, job_status: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [
            shutil.which("make") or "make", "--no-print-directory", "-C", str(support.ROOT),
            "doctor", "ENV=prod", f"HELM={fake_cluster / 'helm'}",
            f"KUBECTL={fake_cluster / 'kubectl'}", "DOCTOR_TIMEOUT=5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FAKE_DIR": str(fake_cluster), "FAKE_JOB_STATUS": job_status},
        check=False,
    )  # fmt: skip


def test_make_doctor_says_each_step_and_prints_both_reports(fake_cluster):
    result = make_doctor(fake_cluster, "1/")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "--set provisioning.enabled=true" in (fake_cluster / "helm.log").read_text()
    for step in (
        "==> gateway_doctor for release wsgateway in namespace wsgateway-prod (read-only)",
        "==> remove a previous job/wsgateway-doctor",
        "==> create job/wsgateway-doctor as wsgateway-deploy",
        "✓ fake report of job/wsgateway-doctor",
        "==> create job/wsgateway-doctor-runtime as wsgateway-runtime",
        "✓ fake report of job/wsgateway-doctor-runtime",
        "==> doctor: every check passed; next: make smoke-test-cluster ENV=…",
    ):
        assert step in result.stdout
    calls = (fake_cluster / "kubectl.log").read_text()
    assert "--namespace wsgateway-prod get serviceaccount wsgateway-deploy" in calls
    assert len(list(fake_cluster.glob("applied-*.json"))) == 2


def test_make_doctor_fails_when_a_job_fails(fake_cluster):
    result = make_doctor(fake_cluster, "/1")

    assert result.returncode != 0
    assert "==> doctor: a check failed (✗ above); docs/troubleshooting.md has each fix" in (
        result.stdout
    )
