"""Where step 12 reads the services' logs from, and what counts as an error in them.

docker: the Docker Engine API on its unix socket, for every container of this container's
compose project (the smoke test runs in the stack). kubernetes:SELECTOR: the in-cluster
API, for the pods matching the label selector (the helm test pod). file:PATH: a file of
JSON log lines (for example saved with `kubectl logs`). none: step 12 is reported as not run.
"""

import http.client
import json
import socket
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from smoketest.config import env

ERROR_LEVELS = {"error", "critical", "exception"}


def error_lines(lines: list[str]) -> list[str]:
    """JSON log lines at error level, and access-log lines with a 5xx status."""
    errors = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # not one of our JSON lines (PostgreSQL's own log, for instance)
        if not isinstance(record, dict):
            continue
        status = record.get("status")
        if str(record.get("level", "")).lower() in ERROR_LEVELS or (
            record.get("event") == "http.request" and isinstance(status, int) and status >= 500
        ):
            errors.append(line)
    return errors


class LogSource(Protocol):
    description: str

    def lines_since(self, since: float) -> list[str]: ...


class _UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket: the Docker Engine API's transport."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=10)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _demultiplex(raw: bytes) -> str:
    """Docker frames non-TTY logs: an 8-byte header (stream, 0, 0, 0, size) per chunk."""
    chunks, offset = [], 0
    while offset + 8 <= len(raw):
        (size,) = struct.unpack(">I", raw[offset + 4 : offset + 8])
        chunks.append(raw[offset + 8 : offset + 8 + size])
        offset += 8 + size
    return b"".join(chunks).decode("utf-8", "replace")


class DockerLogs:
    def __init__(self, socket_path: str | None = None) -> None:
        host = env.str("DOCKER_HOST", default="unix:///var/run/docker.sock")
        self.socket_path = socket_path or host.removeprefix("unix://")
        self.description = f"docker engine at {self.socket_path}"

    def _get(self, path: str) -> bytes:
        connection = _UnixHTTPConnection(self.socket_path)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"docker API {path} answered {response.status}: {body[:200]!r}")
        return body

    def _project(self) -> str:
        own = json.loads(self._get(f"/containers/{quote(socket.gethostname())}/json"))
        return own["Config"]["Labels"]["com.docker.compose.project"]

    def lines_since(self, since: float) -> list[str]:
        label = json.dumps({"label": [f"com.docker.compose.project={self._project()}"]})
        containers = json.loads(self._get(f"/containers/json?filters={quote(label)}"))
        lines: list[str] = []
        for container in containers:
            raw = self._get(
                f"/containers/{container['Id']}/logs?stdout=1&stderr=1&since={int(since)}"
            )
            lines.extend(_demultiplex(raw).splitlines())
        return lines


class FileLogs:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.description = f"file {self.path}"

    def lines_since(self, since: float) -> list[str]:
        lines = []
        for line in self.path.read_text().splitlines():
            try:
                stamp = datetime.fromisoformat(json.loads(line)["timestamp"]).timestamp()
            except (ValueError, KeyError, TypeError):
                continue
            if stamp >= since:
                lines.append(line)
        return lines


class KubernetesLogs:
    """The release's pods, read through the in-cluster API with the pod's ServiceAccount
    (the chart's test Role grants get/list on pods and pods/log, nothing else)."""

    ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")

    def __init__(self, selector: str, account: Path = ACCOUNT, api_url: str | None = None) -> None:
        import requests

        self.selector = selector
        self.namespace = (account / "namespace").read_text().strip()
        host = env.str("KUBERNETES_SERVICE_HOST", default="kubernetes.default.svc")
        port = env.str("KUBERNETES_SERVICE_PORT", default="443")
        self.api_url = api_url or f"https://{host}:{port}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {(account / 'token').read_text().strip()}"
        ca = account / "ca.crt"
        self.http.verify = str(ca) if ca.exists() else True
        self.description = f"kubernetes pods {selector} in {self.namespace}"

    def _get(self, path: str, **params: str):
        response = self.http.get(f"{self.api_url}{path}", params=params, timeout=10)
        response.raise_for_status()
        return response

    def lines_since(self, since: float) -> list[str]:
        since_time = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pods = self._get(f"/api/v1/namespaces/{self.namespace}/pods", labelSelector=self.selector)
        lines: list[str] = []
        for pod in pods.json()["items"]:
            for container in pod["spec"]["containers"]:
                logs = self._get(
                    f"/api/v1/namespaces/{self.namespace}/pods/{pod['metadata']['name']}/log",
                    container=container["name"],
                    sinceTime=since_time,
                )
                lines.extend(logs.text.splitlines())
        return lines


def log_source(name: str) -> LogSource | None:
    if name == "docker":
        return DockerLogs()
    if name.startswith("kubernetes:"):
        return KubernetesLogs(name.removeprefix("kubernetes:"))
    if name.startswith("file:"):
        return FileLogs(name.removeprefix("file:"))
    if name == "none":
        return None
    raise ValueError(
        f"SMOKE_LOG_SOURCE must be docker, kubernetes:SELECTOR, file:PATH or none, not {name!r}"
    )
