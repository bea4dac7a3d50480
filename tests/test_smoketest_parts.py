"""The smoke test's parts: the step report, error detection, and the log sources."""

import io
import json
import socketserver
import struct
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from smoketest.census import census_lines, census_records, read_census
from smoketest.config import SmokeConfig
from smoketest.logs import DockerLogs, FileLogs, KubernetesLogs, error_lines, log_source
from smoketest.report import NotRun, Report


def test_report_stops_at_the_first_failure():
    out = io.StringIO()
    report = Report(out)
    report.step("works", lambda: "fine")
    report.step("cannot run here", lambda: (_ for _ in ()).throw(NotRun("no database")))
    report.step("breaks", lambda: 1 / 0)
    report.step("after", lambda: "never")
    assert [r.status for r in report.results] == ["passed", "not run", "failed", "not run"]
    assert report.failed
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✓  1. works")
    assert lines[2].startswith("✗  3. breaks") and "ZeroDivisionError" in lines[2]
    assert report.summary().startswith("1 passed, 1 failed, 2 not run")


def line(**fields) -> str:
    return json.dumps({"timestamp": datetime.now(UTC).isoformat(), "level": "info", **fields})


def test_error_lines_are_error_levels_and_5xx_answers():
    lines = [
        line(event="fine"),
        line(event="boom", level="error"),
        line(event="http.request", status=502),
        line(event="http.request", status=404),
        "2026-11-24 LOG:  PostgreSQL's own text line",
        "[1, 2]",
    ]
    assert error_lines(lines) == [lines[1], lines[2]]


def census(route: str, names: list[str], required: list[str], **fields) -> str:
    missing = sorted(set(required) - set(names))
    return line(
        event="ws.headers.census",
        route=route,
        names=names,
        required=required,
        missing=missing,
        **fields,
    )


def test_the_census_shows_each_route_once_beside_what_is_required_and_flags_a_gap():
    lines = [
        census("disconnect", ["Connectionid", "Host"], ["Connectionid", "Host"]),
        census("connect", ["Connectionid", "Host"], ["Connectionid", "Host", "Origin"], pid=1),
        census("connect", ["Connectionid", "Host"], ["Connectionid", "Host", "Origin"], pid=2),
        line(event="ws.connect.accepted"),
        "not json",
    ]
    records = census_records(lines)
    assert [(r.route, r.missing) for r in records] == [
        ("connect", ("Origin",)),
        ("disconnect", ()),
    ]
    assert census_lines(records) == [
        "  connect",
        "    received: Connectionid, Host",
        "    required: Connectionid, Host, Origin",
        "    ✗ missing: Origin",
        "  disconnect",
        "    received: Connectionid, Host",
        "    required: Connectionid, Host",
        "    ✓ missing: none",
    ]


def test_the_census_reads_the_whole_log_since_a_process_reports_a_route_once(tmp_path):
    """A census line logged long before the run still counts."""
    old = json.loads(census("connect", ["Host"], ["Host"]))
    old["timestamp"] = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    path = tmp_path / "logs.jsonl"
    path.write_text(json.dumps(old))
    records, source = read_census(FileLogs(str(path)))
    assert [r.route for r in records] == ["connect"]
    assert source == f"from file {path}"


def test_without_a_log_source_or_a_census_line_the_census_says_why(tmp_path):
    assert read_census(None) == ([], "not read: no log source (SMOKE_LOG_SOURCE)")
    path = tmp_path / "logs.jsonl"
    path.write_text(line(event="other"))
    records, source = read_census(FileLogs(str(path)))
    assert records == [] and source.startswith("no ws.headers.census line in file")


def test_file_logs_keep_lines_since_the_start(tmp_path):
    old = json.dumps(
        {"timestamp": (datetime.now(UTC) - timedelta(hours=1)).isoformat(), "event": "old"}
    )
    new = line(event="new")
    path = tmp_path / "logs.jsonl"
    path.write_text("\n".join([old, "not json", new]))
    source = log_source(f"file:{path}")
    assert isinstance(source, FileLogs)
    assert source.lines_since(datetime.now(UTC).timestamp() - 60) == [new]


def test_unknown_log_source_is_a_clear_error():
    with pytest.raises(ValueError, match="SMOKE_LOG_SOURCE must be"):
        log_source("syslog")
    assert log_source("none") is None


def test_config_needs_the_smoke_password(monkeypatch):
    monkeypatch.delenv("SMOKE_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="SMOKE_PASSWORD"):
        SmokeConfig.from_env()


def docker_frame(text: str, stream: int = 1) -> bytes:
    data = text.encode()
    return struct.pack(">BxxxI", stream, len(data)) + data


class _FakeDockerApi(BaseHTTPRequestHandler):
    """Answers the three Docker Engine API calls DockerLogs makes, like dockerd does."""

    def log_message(self, *_args) -> None:
        pass

    def address_string(self) -> str:
        return "unix"

    def do_GET(self) -> None:
        if self.path.startswith("/containers/json"):
            body = json.dumps([{"Id": "web1id"}, {"Id": "emulatorid"}]).encode()
        elif self.path.endswith("/json"):
            body = json.dumps(
                {"Config": {"Labels": {"com.docker.compose.project": "stack"}}}
            ).encode()
        elif "/logs" in self.path:
            body = docker_frame(line(event="from " + self.path.split("/")[2]) + "\n")
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_docker_logs_read_every_container_of_the_project(tmp_path):
    socket_path = str(tmp_path / "docker.sock")
    server = socketserver.ThreadingUnixStreamServer(socket_path, _FakeDockerApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        lines = DockerLogs(socket_path).lines_since(0)
    finally:
        server.shutdown()
        server.server_close()
    assert [json.loads(entry)["event"] for entry in lines] == ["from web1id", "from emulatorid"]


def test_kubernetes_logs_read_the_selected_pods(tmp_path):
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("sa-token")
    (account / "namespace").write_text("wsgateway-prod")
    seen: list[str] = []

    class Api(BaseHTTPRequestHandler):
        def log_message(self, *_args) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(f"{self.headers['Authorization']} {self.path}")
            if "/log" in self.path:
                body = (line(event="pod log") + "\n").encode()
            else:
                pods = {
                    "items": [
                        {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "web"}]}}
                    ]
                }
                body = json.dumps(pods).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        source = KubernetesLogs(
            "app.kubernetes.io/instance=prod",
            account,
            api_url=f"http://127.0.0.1:{server.server_port}",
        )
        lines = source.lines_since(0)
    finally:
        server.shutdown()
        server.server_close()
    assert [json.loads(entry)["event"] for entry in lines] == ["pod log"]
    assert seen[0].startswith(
        "Bearer sa-token /api/v1/namespaces/wsgateway-prod/pods?labelSelector="
    )
    assert "/pods/web-1/log?container=web&sinceTime=1970-01-01T00%3A00%3A00Z" in seen[1]
