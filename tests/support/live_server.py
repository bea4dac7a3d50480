"""The real web process: gunicorn with the project's gunicorn.conf.py, against the test database.

Tests that need several processes (concurrency across workers, gunicorn's Content-Length
handling, the JSON log stream) run against this instead of Django's test client.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devtools.ports import free_port

APP_DIR = Path(__file__).resolve().parents[2] / "app"


def concurrently(calls: list[Callable[[], int]]) -> list[int]:
    """Run every call at once, each on its own thread; their results in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


class GunicornServer:
    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        workers: int = 3,
        threads: int = 4,
        port: int | None = None,
    ):
        # A port chosen beforehand lets ``env`` name it (WS_INTEGRATION_HOST).
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ops_port = free_port()
        self.ops_url = f"http://127.0.0.1:{ops_port}"  # liveness, from the master
        self.log_path = log_path
        self._env = {
            **os.environ,
            "LOG_FORMAT": "json",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
            "OPS_PORT": str(ops_port),
            **env,
        }
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "GunicornServer":
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
            cwd=APP_DIR,
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health/live/", timeout=2):  # noqa: S310
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"gunicorn did not answer within {timeout}s:\n{self.log_path.read_text()}"
        )

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()
