"""`make bluegreen-*` (make/bluegreen.mk, scripts/bluegreen.py) against a fake helm and kubectl
that keep a release's state in a JSON file: what each target runs, in which order, and that it
stops at the first failure with a clear message."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helm import support

FAKE = Path(__file__).with_name("fake_cluster.py")


def color(tag: str, running: bool) -> dict:
    return {"tag": tag, "digest": "", "running": running}


def release_values(active: str, blue: dict, green: dict) -> dict:
    return {
        "image": {"tag": "1.4.2"},
        "blueGreen": {
            "enabled": True,
            "mode": "services",
            "activeColor": active,
            "blue": blue,
            "green": green,
        },
    }


@pytest.fixture
def cluster(tmp_path):
    """Write the release's state; returns a function running a make target against it."""
    for tool in ("helm", "kubectl"):
        (tmp_path / tool).write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" {tool} "$@"\n')
        (tmp_path / tool).chmod(0o755)
    state_file, log = tmp_path / "state.json", tmp_path / "calls"

    def setup(
        values: dict, history: list[tuple[str, dict]] | None = None, service_selects: str = ""
    ) -> None:
        history = history or [("2026-01-01T10:00:00Z", values)]
        state = {
            "service_selects": service_selects,
            "values": values,
            "history": [{"revision": n, "updated": when} for n, (when, _) in enumerate(history, 1)],
            "revisions": {str(n): v for n, (_, v) in enumerate(history, 1)},
        }
        state_file.write_text(json.dumps(state))

    def make(*args: str, **env: str) -> tuple[subprocess.CompletedProcess, list[str], dict]:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [shutil.which("make"), "--no-print-directory", "-C", str(support.ROOT), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **os.environ,
                "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
                "FAKE_STATE": str(state_file),
                "FAKE_LOG": str(log),
                **env,
            },
            check=False,
        )
        calls = log.read_text().splitlines() if log.exists() else []
        return result, calls, json.loads(state_file.read_text())

    make.setup = setup
    return make


BLUE_LIVE_GREEN_IDLE = release_values("blue", color("1.4.2", True), color("1.4.1", False))


def upgrades(calls: list[str]) -> list[str]:
    return [c for c in calls if c.startswith("helm upgrade")]


def test_deploy_runs_the_tag_on_the_idle_color_then_waits_and_smoke_tests(cluster):
    cluster.setup(BLUE_LIVE_GREEN_IDLE)
    result, calls, state = cluster("bluegreen-deploy", "ENV=staging", "TAG=1.5.0")
    assert result.returncode == 0, result.stderr
    [upgrade] = upgrades(calls)
    assert upgrade.startswith(
        f"helm upgrade wsgateway {support.CHART} -f k8s/environments/staging/values.yaml"
    )
    for expected in (
        "--set-string blueGreen.activeColor=blue",
        "--set-string blueGreen.green.tag=1.5.0",
        "--set blueGreen.green.running=true",
        "--set-string blueGreen.blue.tag=1.4.2",
        "--set-string image.tag=1.5.0",  # the migrations hook runs the new release
        "--wait --timeout 10m",
        "--namespace wsgateway-staging",
    ):
        assert expected in upgrade, expected
    steps = [c.split(" -")[0] for c in calls if not c.startswith(("helm get", "kubectl get"))]
    assert steps == [
        f"helm upgrade wsgateway {support.CHART}",
        "kubectl rollout status deployment/wsgateway-web-green",
        "helm test wsgateway",
    ]
    assert state["values"]["blueGreen"]["activeColor"] == "blue"
    assert "==> wait until green is ready" in result.stdout
    assert "Next: make bluegreen-switch" in result.stdout


def test_switch_flips_the_active_color_and_checks_the_service(cluster):
    values = release_values("blue", color("1.4.2", True), color("1.5.0", True))
    cluster.setup(values)
    result, calls, state = cluster("bluegreen-switch", "ENV=prod")
    assert result.returncode == 0, result.stderr
    [upgrade] = upgrades(calls)
    assert "--set-string blueGreen.activeColor=green" in upgrade
    assert "--set blueGreen.blue.running=true" in upgrade  # the old color stays for rollback
    assert "--set-string image.tag=1.5.0" in upgrade
    assert calls[-1].startswith("helm test wsgateway")
    assert "the stable Service selects green" in result.stdout
    assert state["values"]["blueGreen"]["activeColor"] == "green"


def test_switch_without_a_deployed_idle_color_changes_nothing(cluster):
    cluster.setup(BLUE_LIVE_GREEN_IDLE)
    result, calls, _ = cluster("bluegreen-switch", "ENV=prod")
    assert result.returncode != 0
    assert "green is not running: deploy it first" in result.stderr
    assert not upgrades(calls)


def test_rollback_scales_the_old_color_up_before_switching_back(cluster):
    values = release_values("green", color("1.4.2", False), color("1.5.0", True))
    cluster.setup(values)
    result, calls, state = cluster("bluegreen-rollback", "ENV=prod")
    assert result.returncode == 0, result.stderr
    scale_up, switch_back = upgrades(calls)
    assert "--set blueGreen.blue.running=true" in scale_up
    assert "--set-string blueGreen.activeColor=green" in scale_up  # still green while it starts
    assert "--set-string blueGreen.activeColor=blue" in switch_back
    assert "--set-string image.tag=1.4.2" in switch_back
    order = [c.split(" ")[:2] for c in calls if not c.startswith(("helm get", "kubectl get"))]
    assert order == [
        ["helm", "upgrade"],
        ["kubectl", "rollout"],
        ["helm", "upgrade"],
        ["helm", "test"],
    ]
    assert state["values"]["blueGreen"]["activeColor"] == "blue"


def test_a_failing_smoke_test_stops_with_a_clear_message(cluster):
    cluster.setup(BLUE_LIVE_GREEN_IDLE)
    result, _, _ = cluster("bluegreen-deploy", "ENV=prod", "TAG=1.5.0", FAKE_TEST_EXIT="3")
    assert result.returncode != 0
    assert "bluegreen: FAILED: smoke-test the live color" in result.stderr
    assert "failed (exit 3)" in result.stderr
    assert "Next:" not in result.stdout


def test_a_service_pointing_at_the_wrong_color_stops_the_switch(cluster):
    """Something else keeps the stable Service on blue: the switch says so and does not go on
    to smoke-test what would really be the old color."""
    values = release_values("blue", color("1.4.2", True), color("1.5.0", True))
    cluster.setup(values, service_selects="blue")
    result, calls, _ = cluster("bluegreen-switch", "ENV=prod")
    assert result.returncode != 0
    assert "the stable Service selects blue, not green: API Gateway reaches the wrong color" in (
        result.stderr
    )
    assert not [c for c in calls if c.startswith("helm test")]
    status, _, _ = cluster("bluegreen-status", "ENV=prod")
    assert "WARNING: the release's values say green" in status.stdout


def test_status_shows_the_live_color_images_and_since_when(cluster):
    before = release_values("blue", color("1.4.2", True), color("1.5.0", True))
    after = release_values("green", color("1.4.2", True), color("1.5.0", True))
    cluster.setup(
        after,
        history=[
            ("2026-01-01T10:00:00Z", before),
            ("2026-01-02T09:30:00Z", after),
            ("2026-01-02T09:45:00Z", after),
        ],
    )
    result, _, _ = cluster("bluegreen-status", "ENV=prod")
    assert result.returncode == 0, result.stderr
    assert "live: green (stable Service), since 2026-01-02T09:30:00Z (revision 2)" in result.stdout
    assert "blue   app:1.4.2  2/2 ready  (preview)" in result.stdout
    assert "green  app:1.5.0  2/2 ready  (live)" in result.stdout


def test_scale_down_after_the_delay_scales_the_idle_color_to_zero(cluster):
    values = release_values("green", color("1.4.2", True), color("1.5.0", True))
    cluster.setup(values)
    result, calls, state = cluster(
        "bluegreen-scale-down", "ENV=prod", "BLUEGREEN_SCALE_DOWN_DELAY=0"
    )
    assert result.returncode == 0, result.stderr
    [upgrade] = upgrades(calls)
    assert "--set blueGreen.blue.running=false" in upgrade
    assert "--set-string blueGreen.activeColor=green" in upgrade
    assert state["values"]["blueGreen"]["blue"]["running"] is False


@pytest.mark.parametrize("target", ["bluegreen-status", "bluegreen-switch"])
def test_without_helm_the_target_fails_with_instructions(target, tmp_path):
    make = [shutil.which("make"), "--no-print-directory", "-C", str(support.ROOT)]
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [*make, target, "ENV=dev", f"HELM={tmp_path / 'no-helm-here'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "Error 127" in result.stderr  # make reports the script's code
    assert "no-helm-here get values wsgateway" in result.stdout
    assert "is not installed" in result.stderr and "was not run" in result.stderr


def test_deploy_needs_env_and_tag(cluster):
    cluster.setup(BLUE_LIVE_GREEN_IDLE)
    missing_env, _, _ = cluster("bluegreen-deploy", "TAG=1.5.0")
    assert missing_env.returncode != 0 and "ENV is required" in missing_env.stderr
    missing_tag, calls, _ = cluster("bluegreen-deploy", "ENV=prod")
    assert missing_tag.returncode != 0 and "TAG is required" in missing_tag.stderr
    assert not calls


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({}, "NAMESPACE must be set"),
        (
            {"NAMESPACE": "wsgateway-prod", "ENV_VALUES": "values.yaml"}
            | {"BLUEGREEN_SCALE_DOWN_DELAY": "soon"},
            "BLUEGREEN_SCALE_DOWN_DELAY='soon' must be a whole number",
        ),
    ],
    ids=["missing", "not-a-number"],
)
def test_a_missing_or_wrong_variable_is_named_without_a_traceback(variables, named):
    """By hand (`python3 scripts/bluegreen.py status`) nothing sets the variables make sets."""
    inherited = {k: v for k, v in os.environ.items() if k not in {"NAMESPACE", "ENV_VALUES"}}
    result = subprocess.run(
        [sys.executable, "scripts/bluegreen.py", "status"],
        cwd=support.ROOT,
        env={**inherited, **variables},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"bluegreen: FAILED: {named}" in result.stderr
    assert "Traceback" not in result.stderr
