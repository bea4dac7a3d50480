"""Blue/green rollouts of the chart's web tier with helm and kubectl (docs/blue-green.md).

    python3 scripts/bluegreen.py status     # which color is live, the images, since when
    python3 scripts/bluegreen.py deploy TAG # the idle color runs TAG; wait; smoke-test it
    python3 scripts/bluegreen.py switch     # the stable Service selects the idle color
    python3 scripts/bluegreen.py rollback   # back to the other color (scaled up if needed)
    python3 scripts/bluegreen.py scale-down # the idle color to 0, once DELAY has passed

make/bluegreen.mk calls it with ENV's values file. Settings come from the environment:
RELEASE, NAMESPACE, ENV_VALUES, HELM, KUBECTL, HELM_TIMEOUT, HELM_ARGS,
BLUEGREEN_SCALE_DOWN_DELAY. The state is the release's own (`helm get values`); every upgrade
passes the whole blue/green state with the environment's values file, so nothing set by hand
earlier survives silently. Each step is printed before it runs; the first failure stops it.
Standard library only (devtools/ is too): it runs on an operator's machine with python3.
"""

import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# Run as a file: the repository root, where devtools/ is, as for bench/ and drill/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.console import say
from devtools.environment import BadVariable, env_int, env_str

CHART = Path(__file__).resolve().parents[1] / "helm"
COLOR_LABEL = "wsgateway/color"
COLORS = ("blue", "green")


class Failure(Exception):
    """A step failed; the message says which and what to do. ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Settings:
    release: str
    namespace: str
    values_file: str
    helm: str
    kubectl: str
    timeout: str
    helm_args: list[str]
    scale_down_delay: int

    @classmethod
    def from_env(cls) -> "Settings":
        """A missing or wrong variable is a Failure with exit code 2, as a usage error."""
        try:
            return cls(
                release=env_str("RELEASE", "wsgateway"),
                namespace=env_str("NAMESPACE"),
                values_file=env_str("ENV_VALUES"),
                helm=env_str("HELM", "helm"),
                kubectl=env_str("KUBECTL", "kubectl"),
                timeout=env_str("HELM_TIMEOUT", "10m"),
                helm_args=shlex.split(env_str("HELM_ARGS", "")),
                scale_down_delay=env_int("BLUEGREEN_SCALE_DOWN_DELAY", 300),
            )
        except BadVariable as error:
            raise Failure(str(error), code=2) from None


def other(color: str) -> str:
    return "green" if color == "blue" else "blue"


def run(command: list[str], what: str, capture: bool = False) -> str:
    """Print and run ``command``; a non-zero exit is a Failure naming ``what``."""
    say(what)
    print(f"    $ {shlex.join(command)}", flush=True)
    if shutil.which(command[0]) is None:
        raise Failure(
            f"{command[0]} is not installed (HELM= / KUBECTL= name the binaries): install Helm "
            "3.14+ or 4 (https://helm.sh/docs/intro/install/) and kubectl. The command above "
            "was not run",
            code=127,
        )
    result = subprocess.run(  # noqa: S603 - the operator's own helm/kubectl
        command, capture_output=capture, text=True, check=False
    )
    if result.returncode != 0:
        detail = f":\n{result.stderr.strip()[-2000:]}" if capture else ""
        raise Failure(f"{what} failed (exit {result.returncode}){detail}", result.returncode)
    return result.stdout if capture else ""


class Release:
    """The release's blue/green state, read from Helm, and the steps that change it."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.values = self._values()
        self.bg = self.values.get("blueGreen") or {}
        if not self.bg.get("enabled"):
            raise Failure(
                f"release {self.s.release} in {self.s.namespace} does not run blue/green "
                f"(blueGreen.enabled is false): enable it in {self.s.values_file} and "
                "`make deploy` first (docs/blue-green.md, 'Turning it on')"
            )
        if self.bg.get("mode") != "services":
            raise Failure(
                "blueGreen.mode is argo-rollouts: the Rollout switches by itself; use "
                "`kubectl argo rollouts get/promote/abort` (docs/blue-green.md)"
            )

    def _helm(self, *args: str) -> list[str]:
        return [self.s.helm, *args, "--namespace", self.s.namespace]

    def _values(self, revision: int | None = None) -> dict:
        extra = ["--revision", str(revision)] if revision else []
        what = f"read the values of release {self.s.release}" + (
            f" (revision {revision})" if revision else ""
        )
        out = run(
            self._helm("get", "values", self.s.release, "--all", "--output", "json", *extra),
            what,
            capture=True,
        )
        return json.loads(out or "{}") or {}

    @property
    def active(self) -> str:
        return self.bg["activeColor"]

    def color(self, name: str) -> dict:
        return self.bg[name]

    def tag(self, name: str) -> str:
        return self.color(name).get("tag") or self.values.get("image", {}).get("tag", "")

    def upgrade(self, what: str, image_tag: str, **changes: dict) -> None:
        """helm upgrade with the environment's values and the whole blue/green state."""
        state = {c: {**self.color(c), **changes.get(c, {})} for c in COLORS}
        active = changes.get("activeColor", self.active)
        sets = ["--set", "blueGreen.enabled=true", "--set-string", "blueGreen.mode=services"]
        sets += ["--set-string", f"blueGreen.activeColor={active}"]
        for name in COLORS:
            sets += ["--set-string", f"blueGreen.{name}.tag={state[name].get('tag', '')}"]
            sets += ["--set", f"blueGreen.{name}.running={str(state[name]['running']).lower()}"]
        if image_tag:
            sets += ["--set-string", f"image.tag={image_tag}"]
        command = self._helm("upgrade", self.s.release, str(CHART), "-f", self.s.values_file)
        run([*command, *sets, *self.s.helm_args, "--wait", "--timeout", self.s.timeout], what)
        self.bg.update(state, activeColor=active)

    def deployment(self, name: str) -> str:
        return f"deployment/{self.web_objects('deployment')[name]['metadata']['name']}"

    def web_objects(self, kind: str) -> dict[str, dict]:
        """Color (or "stable"/"preview" for Services) -> the object, found by labels."""
        selector = f"app.kubernetes.io/instance={self.s.release},app.kubernetes.io/component=web"
        out = run(
            [self.s.kubectl, "get", kind, "-n", self.s.namespace, "-l", selector, "-o", "json"],
            f"list the web {kind}s",
            capture=True,
        )
        objects = json.loads(out)["items"]
        if kind == "service":
            return {
                "preview" if o["metadata"]["name"].endswith("-preview") else "stable": o
                for o in objects
            }
        return {o["metadata"]["labels"].get(COLOR_LABEL, ""): o for o in objects}

    def wait_ready(self, name: str) -> None:
        deployment = self.deployment(name)
        command = [self.s.kubectl, "rollout", "status", deployment, "-n", self.s.namespace]
        run([*command, "--timeout", self.s.timeout], f"wait until {name} is ready")

    def live_in_cluster(self) -> str:
        """The color the stable Service really selects (what API Gateway reaches)."""
        stable = self.web_objects("service").get("stable")
        if stable is None:
            raise Failure("the release has no stable web Service: is it installed?")
        return stable["spec"].get("selector", {}).get(COLOR_LABEL, "")

    def verify_live(self, expected: str) -> None:
        live = self.live_in_cluster()
        if live != expected:
            raise Failure(
                f"the stable Service selects {live or 'no color'}, not {expected}: API Gateway "
                "reaches the wrong color. Check `kubectl get service -o wide` and whether "
                "something else manages the Service (docs/blue-green.md, failure cases)"
            )
        print(f"    the stable Service selects {expected}", flush=True)

    def smoke_test(self) -> None:
        run(
            self._helm("test", self.s.release, "--logs", "--timeout", "5m"),
            "smoke-test the live color and, while it runs, the preview (helm test)",
        )

    def live_since(self) -> tuple[str, int]:
        """When the live color became live: the oldest revision of the latest run of
        revisions with this activeColor."""
        history = json.loads(
            run(
                self._helm("history", self.s.release, "--output", "json", "--max", "20"),
                f"read the history of release {self.s.release}",
                capture=True,
            )
        )
        since = history[-1]
        for entry in reversed(history[:-1]):
            values = self._values(entry["revision"]).get("blueGreen") or {}
            if values.get("activeColor") != self.active or not values.get("enabled"):
                break
            since = entry
        return since["updated"], since["revision"]


# --- the commands ---------------------------------------------------------------------------


def status(release: Release) -> None:
    live = release.live_in_cluster()
    since, revision = release.live_since()
    deployments = release.web_objects("deployment")
    say(f"Release {release.s.release} in {release.s.namespace}: blue/green")
    print(f"    live: {live} (stable Service), since {since} (revision {revision})")
    if live != release.active:
        print(f"    WARNING: the release's values say {release.active}: the Service was changed")
    for name in COLORS:
        found = deployments.get(name, {})
        image = found.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])
        ready = found.get("status", {}).get("readyReplicas", 0)
        wanted = found.get("spec", {}).get("replicas", 0)
        role = "live" if name == live else "preview" if wanted else "scaled down"
        print(f"    {name:<5}  {image[0].get('image', '-')}  {ready}/{wanted} ready  ({role})")


def deploy(release: Release, tag: str) -> None:
    idle = other(release.active)
    say(f"Deploying {tag} to {idle} (idle); {release.active} stays live")
    # image.tag too: the migrations Job (a pre-upgrade hook) must be the new release's.
    release.upgrade(f"run {tag} on {idle}", tag, **{idle: {"tag": tag, "running": True}})
    release.wait_ready(idle)
    release.verify_live(release.active)
    release.smoke_test()
    say(f"{idle} runs {tag} behind the preview Service. Next: make bluegreen-switch")


def switch(release: Release) -> None:
    new = other(release.active)
    if not release.color(new).get("running"):
        raise Failure(f"{new} is not running: deploy it first (make bluegreen-deploy TAG=…)")
    switch_to(release, new, "switch")
    say(
        f"{new} is live; {other(new)} keeps running for a rollback. After "
        f"{release.s.scale_down_delay} s: make bluegreen-scale-down"
    )


def rollback(release: Release) -> None:
    back = other(release.active)
    if not release.color(back).get("running"):
        say(f"{back} is scaled down: scaling it up before switching back")
        release.upgrade(
            f"scale {back} up", release.tag(release.active), **{back: {"running": True}}
        )
        release.wait_ready(back)
    switch_to(release, back, "roll back")


def switch_to(release: Release, color: str, verb: str) -> None:
    say(f"{verb.capitalize()}: {release.active} -> {color}")
    release.upgrade(f"{verb} the stable Service to {color}", release.tag(color), activeColor=color)
    release.verify_live(color)
    release.smoke_test()


def scale_down(release: Release) -> None:
    idle = other(release.active)
    if not release.color(idle).get("running"):
        say(f"{idle} is already scaled down: nothing to do")
        return
    since, _ = release.live_since()
    elapsed = time.time() - datetime.fromisoformat(since).astimezone(UTC).timestamp()
    remaining = release.s.scale_down_delay - elapsed
    if remaining > 0:
        say(
            f"{release.active} has been live {elapsed:.0f} s: waiting {remaining:.0f} s more "
            "(BLUEGREEN_SCALE_DOWN_DELAY) so a rollback still finds warm pods"
        )
        time.sleep(remaining)
        release = Release(release.s)  # someone may have rolled back meanwhile
        if other(release.active) != idle:
            raise Failure(f"{idle} became live while waiting: not scaling it down")
    release.upgrade(
        f"scale {idle} down to 0", release.tag(release.active), **{idle: {"running": False}}
    )


def main(argv: list[str]) -> int:
    commands = {"status": status, "switch": switch, "rollback": rollback, "scale-down": scale_down}
    try:
        if argv[:1] == ["deploy"]:
            if len(argv) != 2 or not argv[1]:
                raise Failure("TAG is required: make bluegreen-deploy ENV=… TAG=1.2.3", code=2)
            deploy(Release(Settings.from_env()), argv[1])
        elif len(argv) == 1 and argv[0] in commands:
            commands[argv[0]](Release(Settings.from_env()))
        else:
            raise Failure(f"usage: {sys.argv[0]} status|deploy TAG|switch|rollback|scale-down", 2)
    except Failure as failure:
        say(f"bluegreen: FAILED: {failure}", sys.stderr)
        return failure.code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
