"""A drill's own compose project: start it, act on its containers, read its logs, remove it.

docker-compose v1 or `docker compose` v2, whichever works (as make/docker.mk chooses); the
project name is the drill's own, so it never touches the local stack or another engineer's.
"""

import ipaddress
import json
import os
import random
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from devtools.console import say
from devtools.environment import env_str

ROOT = Path(__file__).resolve().parents[1]


class StackError(RuntimeError):
    """The stack could not be started or read; the message says what to do."""


def compose_command() -> list[str]:
    for candidate in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(candidate[0]) and _succeeds([*candidate, "version"]):
            return candidate
    raise StackError(
        "neither `docker compose` nor docker-compose works: run `make engine` "
        "(docker/start-engine.sh installs them and starts a private engine)"
    )


def _succeeds(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0  # noqa: S603


@dataclass
class Stack:
    project: str
    compose_file: Path
    env: dict[str, str]
    # A folder of the drill's own (bind-mounted files), removed with the stack.
    scratch: Path
    compose: list[str] = field(default_factory=compose_command)

    def _run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        command = [*self.compose, "-p", self.project, "-f", str(self.compose_file), *args]
        try:
            return subprocess.run(  # noqa: S603 - arguments built here
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, **self.env},
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise StackError(
                f"compose {' '.join(args)} took over {timeout:.0f} s (a loaded machine?)"
            ) from error

    def up(self, timeout: int) -> None:
        started = self._run("up", "-d", "--no-build")
        if started.returncode != 0:
            raise StackError(f"compose up failed:\n{started.stderr[-3000:]}")
        # The project's own wait script: healthy, running or exited 0, else the failing logs.
        waited = subprocess.run(  # noqa: S603
            [str(ROOT / "docker" / "wait-healthy.sh"), self.project, str(timeout)],
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
            check=False,
        )
        if waited.returncode != 0:
            raise StackError(f"the drill stack never became healthy:\n{waited.stdout[-4000:]}")

    def down(self) -> None:
        """Remove the containers, the network and the volumes; never raises."""
        say(f"removing project {self.project} (compose down -v)")
        removed = self._run("down", "-v", "--remove-orphans", "--timeout", "10")
        if removed.returncode != 0:
            say(f"compose down failed: {removed.stderr[-2000:]}")
        shutil.rmtree(self.scratch, ignore_errors=True)

    def compose_run(self, *args: str, timeout: float = 120) -> str:
        """A compose command on this project (stop, start, restart, exec -T …); its output."""
        done = self._run(*args, timeout=timeout)
        if done.returncode != 0:
            raise StackError(f"compose {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def container_id(self, service: str) -> str:
        ids = self._run("ps", "-q", service).stdout.split()
        if not ids:
            raise StackError(f"no container for {service}")
        return ids[0]

    def inspect(self, service: str) -> dict:
        """`docker inspect` of the service's container."""
        return json.loads(self._docker("inspect", self.container_id(service)))[0]

    def _docker(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603
            ["docker", *args],  # noqa: S607 - the engine's client, from PATH
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
            timeout=60,
            check=False,
        )
        return done.stdout + done.stderr

    def logs(self, service: str) -> list[dict]:
        """The service's JSON log lines, over every restart of its container (other lines are
        skipped)."""
        output = self._docker("logs", self.container_id(service))
        return [event for line in output.splitlines() if (event := _json(line))]


def _json(line: str) -> dict | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def event_time(event: dict) -> float:
    """A JSON log line's timestamp (ISO 8601, UTC) as seconds since the epoch."""
    return datetime.fromisoformat(event["timestamp"]).timestamp()


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 for a drill's own compose network that no route of this machine uses yet, so a
    service can have a fixed address there."""
    routes = subprocess.run(
        ["ip", "-4", "route"],  # noqa: S607 - iproute2, on every Debian machine
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    used = [
        ipaddress.ip_network(line.split()[0], strict=False)
        for line in routes.splitlines()
        if line and line.split()[0][0].isdigit()
    ]
    for third in random.sample(range(256), 256):
        candidate = ipaddress.ip_network(f"10.251.{third}.0/24")
        if not any(candidate.overlaps(network) for network in used):
            return candidate
    raise StackError("no free /24 in 10.251.0.0/16 for the drill's network")


def add_source_addresses(subnet: ipaddress.IPv4Network, count: int) -> list[str]:
    """``count`` more addresses of this machine on the bridge of the drill's network, so its
    clients can come from several addresses as real users do (the admission serialises one
    address's connects). /32 each: no route changes; they go with the bridge at compose down."""
    route = _ip("-4", "-o", "route", "show", str(subnet)).split()
    if "dev" not in route:
        raise StackError(f"no bridge carries {subnet}: is the drill's network up?")
    device = route[route.index("dev") + 1]
    addresses = [str(subnet[200 + n]) for n in range(count)]
    for address in addresses:
        _ip("addr", "replace", f"{address}/32", "dev", device)
    return addresses


def _ip(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - arguments built here
        ["ip", *args],  # noqa: S607 - iproute2, on every Debian machine
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise StackError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def postgres_image() -> str:
    """The project's choice (docker/images.sh): official postgres:15, else the local build."""
    if chosen := env_str("POSTGRES_IMAGE", ""):
        return chosen
    images = subprocess.run(  # noqa: S603
        [str(ROOT / "docker" / "images.sh"), "postgres"],
        capture_output=True,
        text=True,
        check=True,
    )
    return images.stdout.strip()


def project_name(drill: str) -> str:
    """DRILL_PROJECT, else the drill's name and a random part (several runs never collide)."""
    return env_str("DRILL_PROJECT", "") or f"{drill}drill{secrets.token_hex(3)}"
