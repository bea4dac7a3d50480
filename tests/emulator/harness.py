"""Running the emulator as its own process, and a recording stand-in for Django beside it."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from botocore.config import Config
from websockets.sync.client import ClientConnection, connect

from devtools.browser_handshake import CHROMIUM_EXTENSIONS, EXTENSIONS_HEADER
from devtools.ports import free_port
from devtools.stand_in import StandIn
from tests.support.live_server import APP_DIR

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
BROWSER_EXTENSIONS = CHROMIUM_EXTENSIONS


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll until ``condition()`` is truthy; fail naming ``what`` if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class EmulatorProcess:
    """``python -m gateway_emulator`` with the given environment, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = int(env.get("EMULATOR_PORT") or free_port())
        self.stage = env.get("EMULATOR_STAGE", "local")
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._env = {
            **os.environ,
            "EMULATOR_HOST": "127.0.0.1",
            "LOG_FORMAT": "json",
            # The credentials management_client() signs with: SigV4 is verified.
            "EMULATOR_AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "EMULATOR_AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            **env,
            "EMULATOR_PORT": str(self.port),
        }
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 15.0) -> "EmulatorProcess":
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "gateway_emulator"],
                cwd=APP_DIR,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self._answers, "the emulator's /health", timeout)
        except AssertionError:
            self.stop()
            raise AssertionError(f"emulator did not start:\n{self.log_path.read_text()}") from None
        return self

    def _answers(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise AssertionError(f"emulator exited:\n{self.log_path.read_text()}")
        try:
            self.health()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310
            return json.loads(response.read())

    def ws_url(self, **query: str) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}" + (
            f"?{urlencode(query)}" if query else ""
        )

    def management_client(self, secret: str = SECRET_ACCESS_KEY, **config: Any):
        """boto3's real Management API client, pointed at the emulator (``config``: botocore
        Config options, e.g. no retries)."""
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=f"{self.url}/{self.stage}",
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=secret,
            config=Config(**config) if config else None,
        )

    def events(self, name: str | None = None) -> list[dict]:
        lines = self.log_path.read_text().splitlines()
        events = [json.loads(line) for line in lines if line.startswith("{")]
        return [event for event in events if name is None or event.get("event") == name]

    def wait_for_event(self, name: str, **fields: Any) -> dict:
        def found() -> dict | None:
            for event in self.events(name):
                if all(event.get(key) == value for key, value in fields.items()):
                    return event
            return None

        return wait_until(found, f"log event {name} {fields}")


class ThreadedStandIn:
    """devtools' stand-in for Django, served from a thread so sync tests can use it."""

    def __init__(self, stand_in: StandIn) -> None:
        self.stand_in = stand_in
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> "ThreadedStandIn":
        self._thread.start()
        self._run(self.stand_in.start("127.0.0.1", self.port))
        return self

    def stop(self) -> None:
        self._run(self.stand_in.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _run(self, coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)


def open_client(
    url: str,
    origin: str | None = None,
    cookie: str | None = None,
    extensions: str | None = BROWSER_EXTENSIONS,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> ClientConnection:
    """A WebSocket client as a browser opens it (Origin, Cookie, and the extension offer a
    browser always sends), with compression off: the gateway accepts no extension."""
    headers = dict(headers or {})
    if cookie:
        headers["Cookie"] = cookie
    if extensions:
        headers[EXTENSIONS_HEADER] = extensions
    return connect(
        url,
        origin=origin,
        additional_headers=headers,
        user_agent_header="Mozilla/5.0 (emulator tests)",
        compression=None,
        open_timeout=30,
        **options,
    )
