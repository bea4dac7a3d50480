"""gunicorn replicas and the gateway emulator as child processes, and what /proc says of them."""

import os
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.stack.database import APP_DIR, django_environment
from devtools.ports import LOOPBACK, free_port

HOST = LOOPBACK
# The integration host Django is configured for; the emulator sends it as Host.
INTEGRATION_HOST = "localhost:8000"
ORIGIN = f"http://{INTEGRATION_HOST}"
# Where the emulator sends callbacks: the app's view, or the package's plain WebSocketView
# (bench/baseline/package_view.py), both on the same gunicorn replicas.
APP_TARGET_URL = f"http://{INTEGRATION_HOST}/ws/"
PACKAGE_TARGET_URL = f"http://{INTEGRATION_HOST}/bench/package-ws/"
# The fan-out rate both replicas share (BROADCAST_FRAMES_PER_SECOND), which the emulator's
# account limiter also gets in bench.scenarios.fanout: below what two cores deliver with the
# emulator and 10,000 clients beside the web processes, so the rate, not the machine, binds.
FANOUT_FRAMES_PER_SECOND = 1000
API_ID = "bench"
STAGE = "bench"
GATEWAY_SECRET = "bench-gateway-secret-0123456789abcdefghij"  # noqa: S105 - local only
# Django signs Management API calls with these keys and the emulator verifies the signatures.
AWS_ACCESS_KEY_ID = "bench"
AWS_SECRET_ACCESS_KEY = "bench"  # noqa: S105 - local only
AWS_REGION = "us-east-1"
START_TIMEOUT_SECONDS = 30


def raise_open_files_limit() -> None:
    """Every client is a socket here and one in the emulator (which inherits the limit)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _status_fields(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def rss_mib(pid: int) -> float:
    return int(_status_fields(pid)["VmRSS"].split()[0]) / 1024


def peak_rss_mib(pid: int) -> float:
    return int(_status_fields(pid)["VmHWM"].split()[0]) / 1024


def reset_peak_rss(pid: int) -> None:
    """Linux resets VmHWM to the current RSS when 5 is written to clear_refs."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def total_cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except FileNotFoundError:  # a pooled database connection closed meanwhile
            continue
    return total


def _wait_until_answers(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early; log: {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own loopback URL
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {START_TIMEOUT_SECONDS} s; log: {log_path}")


@dataclass
class ChildProcess:
    command: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> "ChildProcess":
        self.start_process()
        return self.wait_until_ready()

    def start_process(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter and arguments
                self.command,
                cwd=APP_DIR,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self) -> "ChildProcess":
        assert self.process is not None
        _wait_until_answers(self.health_url, self.process, self.log_path)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def gunicorn_replica(database_url: str, emulator_port: int, log_dir: Path) -> ChildProcess:
    """One web replica with the production defaults of app/gunicorn.conf.py (2 workers x
    4 threads, pool of 6) and JSON logs, as docs/configuration.md describes them."""
    port = free_port()
    env = {
        **django_environment(database_url),
        "DEBUG": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        # Each replica's master serves liveness on a port of its own (one host, two replicas).
        "OPS_PORT": str(free_port()),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "WS_INTEGRATION_HOST": INTEGRATION_HOST,
        "WS_GATEWAY_SECRET": GATEWAY_SECRET,
        "WS_MANAGEMENT_ENDPOINT_URL": f"http://{HOST}:{emulator_port}",
        "WS_PUBLIC_URL": f"ws://{HOST}:{emulator_port}/{STAGE}",
        # The rate limit and the caps run in full (locks, counts, inserts, the message
        # budget's upsert) but the load generator, a few hundred addresses and one user with
        # thousands of connections, must never reach them.
        "WS_RATE_LIMIT_MAX_ATTEMPTS": "100000",
        "WS_MAX_CONNECTIONS_PER_USER": "1000000",
        "WS_MESSAGES_PER_SECOND": "1000000",
        "WS_MESSAGE_BURST": "1000000",
        "WS_BROADCASTS_PER_MINUTE": "1000000",
        "AWS_GATEWAY_REGION_NAME": AWS_REGION,
        # Requests are signed as for AWS; the emulator checks the signatures.
        "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
        # Workers are not recycled mid-measurement (production: every ~2,000 requests).
        "GUNICORN_MAX_REQUESTS": "0",
        "BROADCAST_FRAMES_PER_SECOND": str(FANOUT_FRAMES_PER_SECOND),
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    command += ["--config", "gunicorn.conf.py", "--bind", f"{HOST}:{port}"]
    return ChildProcess(
        command, env, log_dir / f"gunicorn-{port}.log", f"http://{HOST}:{port}/health/live/"
    )


def worker_pids(replica: ChildProcess) -> list[int]:
    """gunicorn's workers: the children of its master process."""
    children = Path(f"/proc/{replica.pid}/task/{replica.pid}/children").read_text()
    return [int(pid) for pid in children.split()]


def replica_port(replica: ChildProcess) -> int:
    return int(replica.command[-1].rsplit(":", 1)[1])


def emulator(port: int, log_dir: Path, **env: str) -> ChildProcess:
    """The gateway emulator on ``port``; ``env`` sets its EMULATOR_* variables."""
    settings = {
        "EMULATOR_HOST": HOST,
        "EMULATOR_PORT": str(port),
        "EMULATOR_API_ID": API_ID,
        "EMULATOR_STAGE": STAGE,
        "EMULATOR_TARGET_URL": APP_TARGET_URL,
        "EMULATOR_GATEWAY_SECRET": GATEWAY_SECRET,
        "EMULATOR_AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
        "EMULATOR_AWS_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
        # Test equipment: it logs only problems, so its CPU goes to relaying.
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        **env,
    }
    return ChildProcess(
        [sys.executable, "-m", "gateway_emulator"],
        settings,
        log_dir / f"emulator-{port}.log",
        f"http://{HOST}:{port}/health",
    )
