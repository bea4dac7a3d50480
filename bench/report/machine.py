"""A description of the machine and software the figures were measured on."""

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psycopg

PACKAGES = (
    "Django",
    "django-aws-api-gateway-websockets",
    "gunicorn",
    "psycopg",
    "boto3",
    "aiohttp",
    "websockets",
)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return 0.0


def _git_revision(repo: Path) -> str:
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def describe(database_url: str, repo: Path) -> dict[str, str]:
    with psycopg.connect(database_url) as connection:
        server = connection.execute("SHOW server_version").fetchone()[0]
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "revision": _git_revision(repo),
        "cpu": f"{os.cpu_count()} x {_cpu_model()} (virtual machine, shared with other work)",
        "memory": f"{_memory_gib():.0f} GiB",
        "os": f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        "postgresql": f"PostgreSQL {server} on the same machine",
        "packages": versions,
        "load_before": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }
