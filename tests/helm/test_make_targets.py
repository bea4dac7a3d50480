"""`make deploy ENV=…`, `make smoke-test-cluster ENV=…` and `make diff ENV=…` wrap the real
helm CLI: they print the command, run it with the environment's values, and fail clearly
without helm or ENV."""

import os
import shutil
import subprocess

import pytest

from tests.helm import support


def make(*args: str, **env: str) -> subprocess.CompletedProcess:
    make_binary = shutil.which("make")
    assert make_binary, "make is not installed"
    return subprocess.run(  # noqa: S603 - fixed arguments
        [make_binary, "--no-print-directory", "-C", str(support.ROOT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


@pytest.fixture
def fake_helm(tmp_path):
    """A `helm` that records its arguments instead of talking to a cluster."""
    log = tmp_path / "helm-args"
    script = tmp_path / "helm"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\necho "fake helm ran"\n')
    script.chmod(0o755)
    return script, log


def test_deploy_runs_helm_upgrade_install_with_the_environment_values(fake_helm):
    helm, log = fake_helm
    result = make("deploy", "ENV=staging", "IMAGE_TAG=1.4.2", f"HELM={helm}")
    assert result.returncode == 0, result.stderr
    expected = (
        "upgrade --install wsgateway helm --namespace wsgateway-staging "
        "-f k8s/environments/staging/values.yaml --set image.tag=1.4.2 --wait --timeout 10m"
    )
    assert f"==> {helm} {expected}" in result.stdout
    assert log.read_text().strip() == expected


def test_smoke_test_cluster_runs_helm_test(fake_helm):
    helm, log = fake_helm
    result = make("smoke-test-cluster", "ENV=prod", f"HELM={helm}")
    assert result.returncode == 0, result.stderr
    assert (
        log.read_text().strip() == "test wsgateway --namespace wsgateway-prod --logs --timeout 5m"
    )


@pytest.mark.parametrize("target", ["deploy", "smoke-test-cluster"])
def test_without_helm_the_command_is_printed_and_the_target_fails(target, tmp_path):
    result = make(target, "ENV=dev", f"HELM={tmp_path / 'no-helm-here'}")
    assert result.returncode != 0
    assert "--namespace wsgateway-dev" in result.stdout
    assert "is not installed" in result.stderr and "was not run" in result.stderr


def test_env_is_required_and_must_exist():
    missing = make("deploy")
    assert missing.returncode != 0 and "ENV is required" in missing.stderr
    unknown = make("deploy", "ENV=qa")
    assert unknown.returncode != 0 and "no k8s/environments/qa/values.yaml" in unknown.stderr


def fake_tool(folder, name: str, script: str):
    """An executable `name` in `folder` running `script` (sh), logging its arguments."""
    log = folder / f"{name}-args"
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "$@" >> {log}\n{script}\n')
    path.chmod(0o755)
    return path, log


def test_diff_without_the_plugin_compares_the_rendered_release_with_kubectl(tmp_path):
    helm, helm_log = fake_tool(
        tmp_path,
        "helm",
        '[ "$1" = diff ] && exit 1\nprintf "kind: ConfigMap\\nmetadata:\\n  name: x\\n"',
    )
    kubectl, kubectl_log = fake_tool(tmp_path, "kubectl", "cat > /dev/null; exit 1")
    result = make("diff", "ENV=prod", "IMAGE_TAG=2.0.0", f"HELM={helm}", f"KUBECTL={kubectl}")
    assert result.returncode == 0, result.stdout + result.stderr
    template = helm_log.read_text().splitlines()[-1]
    assert template.startswith("template wsgateway helm --namespace wsgateway-prod")
    assert "-f k8s/environments/prod/values.yaml --set image.tag=2.0.0" in template
    assert template.endswith("--no-hooks --skip-tests")
    assert kubectl_log.read_text().startswith("diff --namespace wsgateway-prod -f ")
    assert "the differences above are what make deploy ENV=prod would apply" in result.stdout


def test_diff_uses_the_helm_diff_plugin_when_installed(tmp_path):
    helm, log = fake_tool(tmp_path, "helm", "exit 0")
    result = make("diff", "ENV=staging", f"HELM={helm}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert log.read_text().splitlines()[-1] == (
        "diff upgrade wsgateway helm --namespace wsgateway-staging "
        "-f k8s/environments/staging/values.yaml"
    )
