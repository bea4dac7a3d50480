"""`make cluster-test`: the chart on the project's live cluster (docs/local-cluster.md).

    python scripts/cluster/cluster_test.py APP_IMAGE POSTGRES_IMAGE

Each step prints one PASS or FAIL line with its duration and figures; the first failure stops
the run (later steps need the earlier ones) and the rest are listed as not run. The release is
installed with k8s/environments/local/values.yaml into the namespace of k8s/local-fixtures,
which enforces the restricted Pod Security Standard. Every command it runs is the real helm
and kubectl of the cluster (CLUSTER_CACHE/bin).
"""

import argparse
import asyncio
import base64
import json
import os
import string
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# The sibling scripts (not a package), and the project's root for devtools/ and drill/.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))

import images
import traffic
from cluster import BIN, STATE, ctr

from devtools.console import say

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "k8s/local-fixtures"
VALUES = ROOT / "k8s/environments/local/values.yaml"
NAMESPACE = "wsgateway-local"
RELEASE = "wsgateway"
INSTANCE = f"app.kubernetes.io/instance={RELEASE}"
TAG = "cluster"
TIMEOUT = "300s"


class StepFailed(Exception):
    """A check of a step did not hold; the message says what was seen."""


@dataclass(frozen=True)
class Images:
    app: str  # repository:tag of the app image in the project's Docker engine
    postgres: str

    @property
    def repository(self) -> str:
        return self.app.rsplit(":", 1)[0]


def run(*command: str, stdin: str | None = None, env_path: bool = False) -> str:
    """Runs a command; ``env_path``: with the cluster's kubectl first on PATH and its
    kubeconfig (for the shell recipes of the docs)."""
    env = None
    if env_path:
        kubeconfig = str(STATE / "kubeconfig/admin")
        env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "KUBECONFIG": kubeconfig}
    result = subprocess.run(  # noqa: S603 - our own helm and kubectl
        command, input=stdin, capture_output=True, text=True, check=False, env=env
    )
    if result.returncode != 0:
        raise StepFailed(f"{' '.join(command[:4])} …: {(result.stderr or result.stdout).strip()}")
    # stderr too: helm prints Pod Security Admission's warnings there.
    return result.stdout + ("\n" + result.stderr if result.stderr else "")


def kubectl(*args: str, stdin: str | None = None) -> str:
    kubeconfig = str(STATE / "kubeconfig/admin")
    return run(str(BIN / "kubectl"), "--kubeconfig", kubeconfig, *args, stdin=stdin)


def helm(*args: str) -> str:
    kubeconfig = str(STATE / "kubeconfig/admin")
    return run(str(BIN / "helm"), "--kubeconfig", kubeconfig, "--namespace", NAMESPACE, *args)


def fixture(name: str, images_: Images) -> str:
    text = (FIXTURES / name).read_text()
    return string.Template(text).substitute(app_image=images_.app, postgres_image=images_.postgres)


def load_images(images_: Images) -> str:
    """The app image under two tags (the upgrade's second one is another image: the first plus
    a label) and PostgreSQL's, from the Docker engine into the node's containerd."""
    second = f"{images_.repository}:{TAG}-2"
    dockerfile = f"FROM {images_.app}\nLABEL org.wsgateway.cluster-test=second-tag\n"
    run("docker", "build", "--quiet", "-t", second, "-", stdin=dockerfile)
    loaded = []
    for image in (images_.app, second, images_.postgres):
        if run("docker", "image", "inspect", "--format", "{{.Id}}", image).strip() in node_images():
            continue
        images.load_docker_image(ctr(), image, STATE)
        loaded.append(image)
    return f"loaded {', '.join(loaded) or 'none'} (the others were there)"


def node_images() -> set[str]:
    """Ids of the node's images (config digests: Docker's image ids)."""
    endpoint = f"unix://{STATE}/containerd/containerd.sock"
    listing = run(str(BIN / "crictl"), "--runtime-endpoint", endpoint, "images", "-o", "json")
    listing = listing[: listing.rindex("}") + 1]  # without crictl's warnings on stderr
    return {image["id"] for image in json.loads(listing)["images"]}


def apply_fixtures(images_: Images) -> str:
    """A fresh namespace: a release or fixtures of an earlier run go with the old one."""
    helm_uninstall_if_present()
    kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--timeout", TIMEOUT)
    for name in ("namespace.yaml", "secret.yaml", "postgres.yaml", "emulator.yaml"):
        kubectl("apply", "-f", "-", stdin=fixture(name, images_))
    for deployment in ("postgres", "gateway-emulator"):
        kubectl(
            "-n", NAMESPACE, "rollout", "status", f"deployment/{deployment}", "--timeout", TIMEOUT
        )
    return "namespace (restricted), Secret, PostgreSQL, gateway emulator"


def helm_uninstall_if_present() -> None:
    if RELEASE in helm("list", "--short").split():
        helm("uninstall", RELEASE, "--wait", "--timeout", "5m")


def events(reason: str) -> list[dict]:
    listing = json.loads(
        kubectl(
            "-n", NAMESPACE, "get", "events", "--field-selector", f"reason={reason}", "-o", "json"
        )
    )
    return listing["items"]


def admission_refusals() -> list[str]:
    """Pods a controller could not create (Pod Security Admission refuses them there)."""
    return [event["message"] for event in events("FailedCreate")]


def migration_runs() -> int:
    """Pods the migrations Job created, from its events (the Job itself is deleted by its hook
    policy once it succeeded)."""
    return sum(
        1
        for event in events("SuccessfulCreate")
        if event["involvedObject"]["kind"] == "Job"
        and event["involvedObject"]["name"] == f"{RELEASE}-migrate"
    )


def pods_ready() -> tuple[int, list[str]]:
    pods = json.loads(kubectl("-n", NAMESPACE, "get", "pods", "-l", INSTANCE, "-o", "json"))
    running = [p for p in pods["items"] if p["status"].get("phase") == "Running"]
    not_ready = [
        p["metadata"]["name"]
        for p in running
        if not all(c.get("ready") for c in p["status"].get("containerStatuses", []))
    ]
    return len(running), not_ready


def helm_install(images_: Images) -> str:
    output = helm(
        "install", RELEASE, str(ROOT / "helm"), "-f", str(VALUES),
        "--set", f"image.repository={images_.repository}", "--set", f"image.tag={TAG}",
        "--wait", "--timeout", "10m",
    )  # fmt: skip
    warnings = [line for line in output.splitlines() if "PodSecurity" in line]
    refusals = admission_refusals()
    runs = migration_runs()
    count, not_ready = pods_ready()
    if warnings or refusals:
        raise StepFailed(f"admission: {warnings + refusals}")
    if runs != 1:
        raise StepFailed(f"the migrations Job created {runs} pods, not 1")
    if not_ready:
        raise StepFailed(f"not Ready: {not_ready}")
    return f"{count} pods Ready, migrations ran once, 0 admission refusals"


def seed(images_: Images) -> str:
    kubectl("-n", NAMESPACE, "delete", "job", "seed-local-stack", "--ignore-not-found")
    kubectl("apply", "-f", "-", stdin=fixture("seed-job.yaml", images_))
    kubectl(
        "-n", NAMESPACE, "wait", "--for=condition=complete", "job/seed-local-stack",
        "--timeout", TIMEOUT,
    )  # fmt: skip
    return kubectl("-n", NAMESPACE, "logs", "job/seed-local-stack").strip().splitlines()[-1]


def helm_test() -> str:
    output = helm("test", RELEASE, "--logs", "--timeout", "5m")
    verdict = [line for line in output.splitlines() if line.startswith("PASSED:")]
    if not verdict:
        raise StepFailed(f"no PASSED line in the smoke test's output: {output[-500:]}")
    return verdict[0].removeprefix("PASSED: ")


def cronjobs() -> str:
    names = kubectl(
        "-n", NAMESPACE, "get", "cronjobs", "-l", INSTANCE,
        "-o", "jsonpath={.items[*].metadata.name}",
    ).split()  # fmt: skip
    summaries = []
    for name in names:
        job = f"{name[:40]}-manual-{int(time.time())}"
        kubectl("-n", NAMESPACE, "create", "job", f"--from=cronjob/{name}", job)
        kubectl(
            "-n", NAMESPACE, "wait", "--for=condition=complete", f"job/{job}", "--timeout", TIMEOUT
        )
        lines = kubectl("-n", NAMESPACE, "logs", f"job/{job}").splitlines()
        summary = [json.loads(line) for line in lines if '"command.summary"' in line]
        if not summary:
            raise StepFailed(f"{job} printed no command.summary line: {lines[-3:]}")
        summaries.append(name.removeprefix(f"{RELEASE}-"))
    return f"{len(summaries)} CronJobs completed with a JSON summary: {', '.join(summaries)}"


# Python run inside a pod: "open" or the error of a TCP connection (DNS included).
CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
    print("open")
except OSError as error:
    print(type(error).__name__)
"""


def connect_from(target: str, host: str, port: int) -> str:
    """ "open", or why a TCP connection from the pod or workload ``target`` failed."""
    output = kubectl(
        "-n", NAMESPACE, "exec", target, "--", "python", "-c", CONNECT, host, str(port)
    )  # fmt: skip
    return output.strip().splitlines()[-1]


def expect(target: str, host: str, port: int, reachable: bool) -> str:
    answer = connect_from(target, host, port)
    if (answer == "open") != reachable:
        wanted = "open" if reachable else "blocked"
        raise StepFailed(f"{target} -> {host}:{port}: {answer}, expected {wanted}")
    return f"{host}:{port} {'open' if reachable else answer}"


def network_policies(images_: Images) -> str:
    """The release's policies enforced by kube-network-policies: what they allow connects,
    what they do not is dropped (a timeout)."""
    kubectl("apply", "-f", "-", stdin=fixture("netpol-probe.yaml", images_))
    kubectl(
        "-n", NAMESPACE, "wait", "--for=condition=Ready", "pod/netpol-probe", "--timeout", TIMEOUT
    )
    web = f"deployment/{RELEASE}-web"
    dns = kubectl(
        "-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns",
        "-o", "jsonpath={.items[0].status.podIP}",
    )  # fmt: skip
    checks = [
        ("unlabelled pod", expect("pod/netpol-probe", f"{RELEASE}-web", 8000, reachable=False)),
        ("unlabelled pod", expect("pod/netpol-probe", "postgres", 5432, reachable=True)),
        ("web", expect(web, "postgres", 5432, reachable=True)),
        ("web", expect(web, dns, 53, reachable=True)),
        # CoreDNS's health port: DNS pods are allowed on 53 only.
        ("web", expect(web, dns, 8080, reachable=False)),
    ]
    kubectl("-n", NAMESPACE, "delete", "pod", "netpol-probe", "--wait=false")
    return "; ".join(f"{source} -> {result}" for source, result in checks)


def log_recipes() -> str:
    """The `kubectl logs | jq` recipes of docs/operations.md, run as written there (its wslogs
    function and the table's commands), must find the events the earlier steps caused."""
    doc = (ROOT / "docs/operations.md").read_text()
    function = doc[doc.index("wslogs() {") : doc.index("\n}\n", doc.index("wslogs() {")) + 2]
    found = {}
    for event, minimum in RECIPES.items():
        command = recipe(doc, event)
        script = f"export NAMESPACE={NAMESPACE} RELEASE={RELEASE}\n{function}\n{command}\n"
        lines = run("bash", "-c", script, env_path=True).strip().splitlines()
        if len(lines) < minimum:
            raise StepFailed(f"{command!r} found {len(lines)} lines, expected {minimum} or more")
        found[event] = len(lines)
    return ", ".join(f"{event}: {count}" for event, count in found.items())


# Event of a row of docs/operations.md's table -> lines its first recipe must print (from the
# smoke test's connections and tokens, and the CronJob runs).
RECIPES = {
    "ws.connect.accepted": 1,
    "ws.token.issued` / `ws.token.refused": 1,
    "command.summary": 4,
}


def recipe(doc: str, event: str) -> str:
    """The first command of the table row of ``event``, with the table's escaped pipes."""
    table = doc[doc.index("| Signal | Recipe |") :]
    row = next(line for line in table.splitlines() if line.startswith(f"| `{event}` |"))
    cell = row.split(" | ")[1]
    return cell.split("`")[1].replace("\\|", "|")


def helm_uninstall() -> str:
    """Nothing of the release may stay but the `helm test` Pods: their hook delete policy
    (before-hook-creation) keeps them for `helm test --logs`, and `helm uninstall` does not
    delete test hooks. The step names them, then deletes them."""
    helm("uninstall", RELEASE, "--wait", "--timeout", "5m")
    kinds = (
        "all,configmaps,secrets,serviceaccounts,roles,rolebindings,networkpolicies,pdb,jobs,"
        "cronjobs"
    )
    deadline = time.monotonic() + 120
    while True:  # the web pods drain (preStop, graceful timeout) after their Deployment is gone
        left = kubectl("-n", NAMESPACE, "get", kinds, "-l", INSTANCE, "-o", "name").split()
        others = [name for name in left if not name.endswith("smoke-test")]
        if not others or time.monotonic() > deadline:
            break
        time.sleep(2)
    if others:
        raise StepFailed(f"left behind: {others}")
    test_pods = [name for name in left if name.endswith("smoke-test")]
    for name in test_pods:
        kubectl("-n", NAMESPACE, "delete", name, "--wait=false")
    note = f"; left by Helm and deleted here: {', '.join(test_pods)}" if test_pods else ""
    return f"nothing else labelled {INSTANCE} ({kinds}){note}"


SMOKE_USER = "smoke"
CLIENTS = 50


def endpoints(web_port: int) -> traffic.Endpoints:
    emulator = kubectl(
        "-n", NAMESPACE, "get", "service", "gateway-emulator", "-o", "jsonpath={.spec.clusterIP}"
    )  # fmt: skip
    password = kubectl(
        "-n", NAMESPACE, "get", "secret", "wsgateway-local",
        "-o", "jsonpath={.data.SMOKE_PASSWORD}",
    )  # fmt: skip
    return traffic.Endpoints(
        web_url=f"http://localhost:{web_port}",
        ws_url=f"ws://{emulator}:8001/local",
        origin=f"http://{RELEASE}-web.{NAMESPACE}.svc.cluster.local:8000",
        username=SMOKE_USER,
        password=base64.b64decode(password).decode(),
    )


def kubectl_command() -> list[str]:
    return [str(BIN / "kubectl"), "--kubeconfig", str(STATE / "kubeconfig/admin")]


def websocket_clients() -> str:
    with traffic.port_forward(kubectl_command(), NAMESPACE, f"{RELEASE}-web", 8000) as port:
        return asyncio.run(traffic.ping_and_broadcast(endpoints(port)))


def server_errors() -> int:
    """5xx answers of the web pods in their logs (every line, both tiers of a rollout)."""
    lines = kubectl(
        "-n", NAMESPACE, "logs", "--tail=-1", "--max-log-requests", "20", "-l",
        f"{INSTANCE},app.kubernetes.io/component=web",
    ).splitlines()  # fmt: skip
    answers = [
        json.loads(line) for line in lines if line.startswith("{") and "http.request" in line
    ]
    return sum(1 for answer in answers if int(answer.get("status", 0)) >= 500)


def upgrade_under_load(images_: Images) -> str:
    """helm upgrade to the second image tag while CLIENTS clients ping."""

    def upgrade() -> None:
        helm(
            "upgrade", RELEASE, str(ROOT / "helm"), "-f", str(VALUES),
            "--set", f"image.repository={images_.repository}", "--set", f"image.tag={TAG}-2",
            "--wait", "--timeout", "10m",
        )  # fmt: skip

    with traffic.port_forward(kubectl_command(), NAMESPACE, f"{RELEASE}-web", 8000) as port:
        figures = asyncio.run(traffic.while_pinging(endpoints(port), CLIENTS, upgrade))
    runs = migration_runs()
    errors = server_errors()
    if figures.dropped or figures.lost or runs != 2 or errors:
        raise StepFailed(f"{figures}; migrations Job pods {runs} (expected 2 in all); 5xx {errors}")
    return f"{figures}, 0 5xx; migrations ran once more"


def turn_on_blue_green(images_: Images) -> str:
    """docs/blue-green.md's "Turning it on": blue runs the current tag (a quiet moment: the
    Deployment is replaced, so no clients run through it)."""
    helm(
        "upgrade", RELEASE, str(ROOT / "helm"), "-f", str(VALUES),
        "--set", f"image.repository={images_.repository}", "--set", f"image.tag={TAG}-2",
        "--set", "blueGreen.enabled=true", "--set-string", f"blueGreen.blue.tag={TAG}-2",
        "--wait", "--timeout", "10m",
    )  # fmt: skip
    kubectl("-n", NAMESPACE, "rollout", "status", f"deployment/{RELEASE}-web-blue")
    return f"{RELEASE}-web-blue runs {TAG}-2 behind the stable Service"


def bluegreen_make(target: str, *variables: str) -> None:
    """`make bluegreen-<target> ENV=local …` with the cluster's helm and kubectl."""
    env = {
        **os.environ,
        "KUBECONFIG": str(STATE / "kubeconfig/admin"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    command = ["make", "--no-print-directory", f"bluegreen-{target}", "ENV=local", *variables]
    result = subprocess.run(  # noqa: S603 - the project's own make targets
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise StepFailed(f"make bluegreen-{target}: {(result.stdout + result.stderr)[-800:]}")


def selector_changed_at() -> float:
    """When the stable Service was last written (helm's patch of its color selector), from its
    managedFields (1 s resolution)."""
    service = json.loads(
        kubectl(
            "-n", NAMESPACE, "get", "service", f"{RELEASE}-web", "-o", "json",
            "--show-managed-fields",
        )
    )  # fmt: skip
    moments = [entry["time"] for entry in service["metadata"]["managedFields"]]
    return datetime.fromisoformat(max(moments).replace("Z", "+00:00")).timestamp()


def first_websocket_call(color: str, since: float) -> float | None:
    """When a pod of ``color`` first answered an integration call (/ws/…) after ``since``."""
    lines = kubectl(
        "-n", NAMESPACE, "logs", "--tail=-1", "-l", f"{INSTANCE},wsgateway/color={color}",
    ).splitlines()  # fmt: skip
    moments = [
        datetime.fromisoformat(event["timestamp"]).timestamp()
        for event in (json.loads(line) for line in lines if line.startswith("{"))
        if event.get("event") == "http.request" and event.get("path", "").startswith("/ws/")
    ]
    later = [moment for moment in moments if moment >= since]
    return min(later) if later else None


def blue_green_under_load() -> str:
    """make bluegreen-deploy (green runs the first tag), -switch, -rollback while CLIENTS
    clients ping through the emulator and the stable Service (kube-proxy)."""
    switches: dict[str, float] = {}

    def rollout() -> None:
        bluegreen_make("deploy", f"TAG={TAG}")
        bluegreen_make("switch")
        switches["green"] = selector_changed_at()
        bluegreen_make("rollback")
        switches["blue"] = selector_changed_at()

    with traffic.port_forward(kubectl_command(), NAMESPACE, f"{RELEASE}-web", 8000) as port:
        figures = asyncio.run(traffic.while_pinging(endpoints(port), CLIENTS, rollout))
    errors = server_errors()
    delays = {}
    for color, started in switches.items():
        first = first_websocket_call(color, started)
        delays[color] = f"{first - started:.1f} s" if first else "never"
    if figures.dropped or figures.lost or errors or "never" in delays.values():
        raise StepFailed(f"{figures}; 5xx {errors}; first answer after each switch: {delays}")
    answers = ", ".join(f"{color} {delay}" for color, delay in delays.items())
    return f"{figures}, 0 5xx; first answer from the new color after its switch: {answers}"


@dataclass(frozen=True)
class Step:
    name: str
    action: Callable[[], str]


def run_steps(steps: list[Step]) -> int:
    results: list[str] = []
    started = time.monotonic()
    for index, step in enumerate(steps):
        begun = time.monotonic()
        say(f"[cluster-test] {step.name} ...")
        try:
            detail = step.action()
        # Anything a step raises (a refused connection, a closed WebSocket) is its FAIL line.
        except Exception as error:
            line = f"FAIL  {time.monotonic() - begun:6.1f} s  {step.name}: {error}"
            results.append(line)
            results.extend(f"----  {'':6} s  {later.name}: not run" for later in steps[index + 1 :])
            say(f"[cluster-test] {line}")
            break
        line = f"PASS  {time.monotonic() - begun:6.1f} s  {step.name}: {detail}"
        results.append(line)
        say(f"[cluster-test] {line}")
    print()
    say("[cluster-test] Steps")
    print("\n".join(results))
    failed = any(line.startswith(("FAIL", "----")) for line in results)
    verdict = "FAILED" if failed else "PASSED"
    say(f"[cluster-test] {verdict} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app_image", help="the app image in the Docker engine (repository:tag)")
    parser.add_argument("postgres_image", help="the PostgreSQL image of k8s/local-fixtures")
    arguments = parser.parse_args()
    images_ = Images(arguments.app_image, arguments.postgres_image)
    steps = [
        Step("images loaded into the node", lambda: load_images(images_)),
        Step("fixtures (namespace, Secret, PostgreSQL, emulator)", lambda: apply_fixtures(images_)),
        Step("helm install", lambda: helm_install(images_)),
        Step("seed (ApiGateway row, smoke user)", lambda: seed(images_)),
        Step("helm test", helm_test),
        Step("WebSocket clients from this machine: connect, ping, broadcast", websocket_clients),
        Step("every CronJob run once", cronjobs),
        Step("NetworkPolicy enforced", lambda: network_policies(images_)),
        Step("kubectl logs | jq recipes of docs/operations.md", log_recipes),
        Step(
            f"helm upgrade to {TAG}-2 while {CLIENTS} clients ping",
            lambda: upgrade_under_load(images_),
        ),
        Step("blue/green turned on (helm upgrade)", lambda: turn_on_blue_green(images_)),
        Step(
            f"make bluegreen-deploy, -switch, -rollback while {CLIENTS} clients ping",
            blue_green_under_load,
        ),
        Step("helm uninstall", helm_uninstall),
    ]
    return run_steps(steps)


if __name__ == "__main__":
    sys.exit(main())
