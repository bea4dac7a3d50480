"""The deployment guide's smoke test, one method per step (docs/smoke-test.md says what
each checks and what its failure means)."""

import io
import json
import secrets
import time
from collections.abc import Callable

from django.core.management import call_command
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession

from observability.summary import SUMMARY_EVENT
from realtime import api
from smoketest.client import SmokeBrowser
from smoketest.config import SmokeConfig
from smoketest.logs import LogSource, error_lines
from smoketest.report import NotRun

CLEANUP_COMMANDS = (
    "sweep_stale_sessions",
    "purge_disconnected_sessions",
    "cleanup_tokens",
    "deliver_broadcasts",
)


class SmokeTest:
    def __init__(self, config: SmokeConfig, logs: LogSource | None) -> None:
        self.config = config
        self.logs = logs
        self.browser = SmokeBrowser(config)
        self.started_at = time.time()
        self.started = timezone.now()
        self.nonce = secrets.token_hex(4)
        self.sockets: list = []
        self.connection_ids: list[str] = []

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("open a page that uses WebSockets", self.open_page),
            ("request a WebSocket token", self.request_token),
            ("connect", self.connect),
            ("confirm a WebSocketSession row was created", self.session_created),
            ("send a message from the client", self.send_ping),
            ("confirm Django handled it", self.ping_answered),
            ("send a message from Django to the client", self.server_push),
            ("broadcast to a channel (two clients)", self.broadcast),
            ("disconnect", self.disconnect),
            ("confirm the sessions are marked disconnected", self.sessions_disconnected),
            ("run the cleanup commands", self.cleanup),
            ("check the logs for errors since the test began", self.logs_clean),
        ]

    def _need_database(self) -> None:
        if not self.config.database_steps:
            raise NotRun(
                "database steps are off: SMOKE_DATABASE_STEPS=true where the deployment's "
                "database is reachable (the compose stack, helm test)"
            )

    def open_page(self) -> str:
        self.browser.sign_in()
        self.browser.demo_page()
        return f"signed in as {self.config.username}"

    def request_token(self) -> str:
        token = self.browser.token()
        return f"{len(token)}-character one-time token"

    def connect(self) -> str:
        self.sockets.append(self.browser.open_socket())
        return f"{self.config.ws_url} channel {self.config.channel}"

    def session_created(self) -> str:
        self._need_database()
        rows = WebSocketSession.objects.filter(
            user__username=self.config.username, connected=True, created_on__gte=self.started
        ).count()
        if rows != 1:
            raise AssertionError(
                f"{rows} connected sessions for the smoke user since the start, not 1"
            )
        return "1 connected row"

    def send_ping(self) -> str:
        self.sockets[0].send(json.dumps({"action": "ping", "ref": f"smoke-{self.nonce}"}))
        return '{"action": "ping"}'

    def ping_answered(self) -> str:
        pong = self.browser.wait_for(
            self.sockets[0],
            lambda f: f.get("type") == "pong" and f.get("ref") == f"smoke-{self.nonce}",
            "pong",
        )
        self.connection_ids.append(pong["connection_id"])
        return f"pong through the Management API, connection {pong['connection_id']}"

    def server_push(self) -> str:
        self._need_database()
        # The layer's public API, as a feature sends (no transaction here: sent at once).
        api.send_to_connection(self.connection_ids[0], "smoke", nonce=self.nonce)
        self.browser.wait_for(
            self.sockets[0],
            lambda f: f.get("type") == "smoke" and f.get("nonce") == self.nonce,
            "frame",
        )
        return "frame received"

    def broadcast(self) -> str:
        second = self.browser.open_socket()
        self.sockets.append(second)
        second.send(json.dumps({"action": "ping", "ref": "second"}))
        pong = self.browser.wait_for(second, lambda f: f.get("ref") == "second", "second pong")
        self.connection_ids.append(pong["connection_id"])
        text = f"smoke broadcast {self.nonce}"
        self.sockets[0].send(
            json.dumps({"action": "broadcast", "channel": self.config.channel, "text": text})
        )
        for socket in self.sockets:
            self.browser.wait_for(
                socket,
                lambda f: f.get("type") == "broadcast" and f.get("text") == text,
                "broadcast",
            )
        return f"both clients received it in channel {self.config.channel}"

    def disconnect(self) -> str:
        self.browser.close()
        return f"{len(self.sockets)} connections closed"

    def sessions_disconnected(self) -> str:
        self._need_database()
        deadline = time.monotonic() + self.config.timeout
        while time.monotonic() < deadline:
            open_rows = WebSocketSession.objects.filter(
                connection_id__in=self.connection_ids, connected=True
            ).count()
            if open_rows == 0:
                return f"{len(self.connection_ids)} rows disconnected"
            time.sleep(0.2)
        raise AssertionError(f"{open_rows} sessions still marked connected")

    def cleanup(self) -> str:
        self._need_database()
        ran = []
        for command in CLEANUP_COMMANDS:
            out = io.StringIO()
            call_command(command, stdout=out)
            summary = json.loads(out.getvalue().strip().splitlines()[-1])
            if summary.get("event") != SUMMARY_EVENT or not summary.get("ok"):
                raise AssertionError(f"{command} ended without an ok summary line: {summary}")
            ran.append(command)
        return f"{len(ran)} commands, each with its JSON summary"

    def logs_clean(self) -> str:
        if self.logs is None:
            raise NotRun("no log source: set SMOKE_LOG_SOURCE=docker inside the compose stack")
        lines = self.logs.lines_since(self.started_at - 1)
        errors = error_lines(lines)
        if errors:
            raise AssertionError(f"{len(errors)} error lines, first: {errors[0][:300]}")
        return f"{len(lines)} lines from {self.logs.description}, no errors"
