"""The drill's own compose project: start it, switch its traffic, read its logs, remove it.

docker-compose v1 or `docker compose` v2, whichever works (as make/docker.mk chooses); the
project name is the drill's own, so it never touches the local stack or another engineer's.
"""

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "drill" / "docker-compose.bluegreen.yml"
UPSTREAM = {"blue": "web-blue:8000", "green": "web-green:8000"}


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
    switch_dir: Path
    env: dict[str, str]
    compose: list[str] = field(default_factory=compose_command)

    def _run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        command = [*self.compose, "-p", self.project, "-f", str(COMPOSE_FILE), *args]
        return subprocess.run(  # noqa: S603 - arguments built here
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
            check=False,
        )

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
        removed = self._run("down", "-v", "--remove-orphans", "--timeout", "10")
        if removed.returncode != 0:
            print(f"[drill] compose down failed: {removed.stderr[-2000:]}", flush=True)
        shutil.rmtree(self.switch_dir, ignore_errors=True)

    def switch_to(self, colour: str) -> float:
        """Point the emulator at one colour, as flipping the Service's selector does; returns
        the wall-clock time the new file was in place. Written beside and renamed, so the
        emulator never reads half a file."""
        staging = self.switch_dir / ".active.new"
        staging.write_text(UPSTREAM[colour] + "\n")
        staging.chmod(0o644)
        staging.replace(self.switch_dir / "active")
        return time.time()

    def logs(self, service: str) -> list[dict]:
        """The service's JSON log lines (other lines are skipped)."""
        ids = self._run("ps", "-q", service).stdout.split()
        if not ids:
            raise StackError(f"no container for {service}")
        result = subprocess.run(  # noqa: S603
            ["docker", "logs", ids[0]],  # noqa: S607 - the engine's client, from PATH
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
            timeout=60,
            check=False,
        )
        return [
            event for line in (result.stdout + result.stderr).splitlines() if (event := _json(line))
        ]


def _json(line: str) -> dict | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
