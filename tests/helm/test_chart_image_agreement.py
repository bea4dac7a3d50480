"""The chart and the image agree: the rendered container specs, run with a real Docker engine
the way the kubelet would run them (command, args, env resolved from the rendered ConfigMap and
Secret, user, read-only root filesystem, tmpfs for every emptyDir, dropped capabilities), do
their job against a fresh PostgreSQL database:

- the migrations Job exits 0;
- the web container answers its startup, readiness and liveness probe paths with 200, with
  the Host header the kubelet sends (the pod IP), and stops cleanly on SIGTERM;
- every cleanup CronJob exits 0 and prints its JSON summary.

No Docker engine or no image is a failure with instructions, never a skip.
"""

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from devtools.ports import free_port
from tests.helm import support

IMAGE = os.environ.get("APP_IMAGE", "wsgateway-app:local")
# make/docker.mk's private engine (docker/start-engine.sh).
ENGINE_DIR = Path(os.environ.get("ENGINE_DIR", "/var/tmp/wsgateway-engine"))  # noqa: S108
POD_IP = "127.0.0.1"  # --network host: the pod's address is the host's loopback
QUANTITY = re.compile(r"^(\d+)(Ki|Mi|Gi)?$")


def docker_environment() -> dict[str, str]:
    env = dict(os.environ)
    if "DOCKER_HOST" not in env and (ENGINE_DIR / "docker.sock").is_socket():
        env["DOCKER_HOST"] = f"unix://{ENGINE_DIR / 'docker.sock'}"
    return env


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    binary = shutil.which("docker")
    if not binary:
        pytest.fail("no docker client: run `make engine` (docker/start-engine.sh installs it)")
    result = subprocess.run(  # noqa: S603 - arguments built here
        [binary, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=docker_environment(),
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:2])} failed: {result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def image() -> str:
    if docker("version", "--format", "{{.Server.Version}}", check=False).returncode != 0:
        pytest.fail(
            "No Docker engine answers. Start one with `make engine` (docker/start-engine.sh), "
            f"then `export DOCKER_HOST=unix://{ENGINE_DIR}/docker.sock`, and build the image "
            "with `make image`."
        )
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.fail(f"The image {IMAGE} is not in the Docker engine: build it with `make image`.")
    return IMAGE


@pytest.fixture(scope="module")
def database_url() -> str:
    """A fresh database on the host's PostgreSQL, dropped afterwards."""
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    name = f"wsgateway_chart_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(server)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def release(image, database_url) -> list[dict]:
    repository, tag = image.rsplit(":", 1)
    values = support.values_for(
        support.CHART / "ci" / "chart-secret-values.yaml",
        {
            "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
            "secrets": {"create": {"databaseUrl": database_url}},
            "web": {"containerPort": free_port()},
            "config": {"logLevel": "INFO"},
            "cronjobs": {"jobs": {"deliver-broadcasts": {"enabled": True}}},
        },
    )
    return support.render(values)


# --- from a rendered pod spec to `docker run` ---------------------------------------------


def tmpfs_size(quantity: str) -> str:
    number, unit = QUANTITY.match(quantity).groups()
    return f"{number}{(unit or '')[:1].lower()}"


def run_args(obj: dict, container: dict, objects: list[dict], name: str) -> list[str]:
    spec = support.pod_spec(obj)
    pod_context = spec.get("securityContext", {})
    context = {**pod_context, **container.get("securityContext", {})}
    args = [
        "--name",
        name,
        "--network",
        "host",
        "--user",
        f"{context['runAsUser']}:{context['runAsGroup']}",
    ]
    if "fsGroup" in pod_context:
        args += ["--group-add", str(pod_context["fsGroup"])]
    if context.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    for capability in context.get("capabilities", {}).get("drop", []):
        args += ["--cap-drop", capability]
    if context.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        assert "emptyDir" in volume, f"only emptyDir volumes are emulated here: {volume}"
        size = tmpfs_size(volume["emptyDir"].get("sizeLimit", "64Mi"))
        if mount["mountPath"] == "/dev/shm":  # noqa: S108 - Docker always mounts its own
            args += ["--shm-size", size]
        else:
            args += ["--tmpfs", f"{mount['mountPath']}:rw,nosuid,nodev,size={size},mode=1777"]
    for key, value in support.resolve_env(container, objects, POD_IP).items():
        args += ["--env", f"{key}={value}"]
    command = container.get("command", [])
    if command:
        args += ["--entrypoint", command[0]]
    image = container["image"]
    return [*args, image, *command[1:], *container.get("args", [])]


def run_to_completion(
    obj: dict, objects: list[dict], timeout: float
) -> subprocess.CompletedProcess:
    container = support.pod_spec(obj)["containers"][0]
    name = f"chart-{container['name']}-{uuid.uuid4().hex[:6]}"
    try:
        return docker("run", *run_args(obj, container, objects, name), timeout=timeout, check=False)
    finally:
        docker("rm", "--force", name, check=False)


def get(url: str, host: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310 - http to loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# --- the tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated(release) -> None:
    job = support.one(release, "Job", "-migrate")
    result = run_to_completion(job, release, timeout=300)
    assert result.returncode == 0, (
        f"migrations failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


def test_migrations_job_runs(migrated):
    """The fixture ran it; this names the result."""


def test_web_container_answers_its_probes_and_stops_on_sigterm(release, migrated):
    deployment = support.one(release, "Deployment", "-web")
    pod = support.pod_spec(deployment)
    container = pod["containers"][0]
    port = container["ports"][0]["containerPort"]
    kubelet_host = f"{POD_IP}:{port}"  # httpGet probes send the pod IP as Host
    name = f"chart-web-{uuid.uuid4().hex[:6]}"
    docker("run", "--detach", *run_args(deployment, container, release, name))
    try:
        startup = container["startupProbe"]
        attempts = startup["failureThreshold"]
        status, body = 0, ""
        for _ in range(attempts):  # the startup probe's own budget, as the kubelet gives it
            try:
                status, body = get(
                    f"http://127.0.0.1:{port}{startup['httpGet']['path']}", kubelet_host
                )
            except OSError as error:
                status, body = 0, str(error)
            if status == 200:
                break
            state = docker("inspect", "--format", "{{.State.Running}}", name).stdout.strip()
            assert state == "true", docker("logs", name, check=False).stderr[-3000:]
            time.sleep(startup["periodSeconds"])
        assert status == 200, f"startup probe never passed: {status} {body[:300]}"
        for probe in ("readinessProbe", "livenessProbe"):
            status, body = get(
                f"http://127.0.0.1:{port}{container[probe]['httpGet']['path']}", kubelet_host
            )
            assert status == 200, (probe, body[:300])
            assert isinstance(json.loads(body), dict)
        # Django still refuses hosts it does not serve.
        status, _ = get(f"http://127.0.0.1:{port}/health/live/", "attacker.example")
        assert status == 400
        # SIGTERM (after preStop) ends gunicorn cleanly within the grace period.
        docker("stop", "--time", str(pod["terminationGracePeriodSeconds"]), name, timeout=120)
        exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        assert exit_code == "0", docker("logs", name, check=False).stderr[-3000:]
    finally:
        docker("rm", "--force", name, check=False)


def test_cleanup_cronjobs_exit_zero_with_their_summary(release, migrated):
    cronjobs = support.find(release, "CronJob")
    assert len(cronjobs) == 4
    for cronjob in cronjobs:
        result = run_to_completion(cronjob, release, timeout=120)
        assert result.returncode == 0, f"{cronjob['metadata']['name']}: {result.stderr[-3000:]}"
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        command = support.pod_spec(cronjob)["containers"][0]["command"][2]
        assert (summary["event"], summary["ok"]) == ("command.summary", True)
        assert summary["command"] == command
