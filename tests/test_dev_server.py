"""`make dev` (scripts/dev.sh) listens on this machine only unless told otherwise.

The development server runs with DEBUG and a demo superuser, and the emulator's Management
API has no authentication, so neither may be reachable from the network by default.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from devtools.ports import free_port

REPO_DIR = Path(__file__).resolve().parents[1]
PYTHON = REPO_DIR / ".venv" / "bin" / "python"


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the IPv4 sockets listening on ``port`` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def wait_for_listeners(ports: list[int], process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(listening_addresses(port) for port in ports):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"make dev did not listen on {ports}: {process.stdout.read()}")


@pytest.fixture
def dev_database_url():
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"{parts.path}_makedev"))


def start_dev(database_url: str, web: int, ws: int, **env: str) -> subprocess.Popen:
    subprocess.run(  # noqa: S603 - our script
        [str(PYTHON), "scripts/local_postgres.py", "ensure", database_url, "--explicit"],
        cwd=REPO_DIR,
        check=True,
        capture_output=True,
    )
    return subprocess.Popen(  # noqa: S603 - our script
        [str(REPO_DIR / "scripts" / "dev.sh")],
        cwd=REPO_DIR,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "PY": str(PYTHON),
            "DEV_WEB_PORT": str(web),
            "DEV_WS_PORT": str(ws),
            "DEMO_USERNAME": "demo",
            "DEMO_PASSWORD": "demo-password-for-make-dev-test",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the development server's reloader child too
        output, _ = process.communicate()
    return output


def test_make_dev_listens_on_loopback_only_by_default(dev_database_url):
    web, ws = free_port(), free_port()
    process = start_dev(dev_database_url, web, ws)
    try:
        wait_for_listeners([web, ws], process)
        assert listening_addresses(web) == {"127.0.0.1"}
        assert listening_addresses(ws) == {"127.0.0.1"}
    finally:
        output = stop(process)
    assert "WARNING: DEV_BIND" not in output


def test_opening_make_dev_to_the_network_warns(dev_database_url):
    web, ws = free_port(), free_port()
    process = start_dev(dev_database_url, web, ws, DEV_BIND="0.0.0.0")  # noqa: S104
    try:
        wait_for_listeners([web, ws], process)
        assert listening_addresses(web) == {"0.0.0.0"}  # noqa: S104 - what is checked
    finally:
        output = stop(process)
    assert "WARNING: DEV_BIND=0.0.0.0" in output
