"""Cleanup commands: batched, age-limited, idempotent, safe in two copies, JSON summaries."""

import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_aws_api_gateway_websockets.models import (
    ConnectionRateLimit,
    WebSocketSession,
    WebSocketToken,
)


def run(command: str, *args: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command(command, *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, lines
    summary = json.loads(lines[0])
    assert (summary["event"], summary["command"], summary["ok"]) == (
        "command.summary",
        command,
        True,
    )
    assert {"timestamp", "level", "request_id", "seconds"} <= set(summary)
    return summary


def make_sessions(api_gateway, count: int, *, connected: bool, age: timedelta, prefix: str) -> None:
    WebSocketSession.objects.bulk_create(
        WebSocketSession(connection_id=f"{prefix}{i}", connected=connected, api_gateway=api_gateway)
        for i in range(count)
    )
    moment = timezone.now() - age
    WebSocketSession.objects.filter(connection_id__startswith=prefix).update(
        created_on=moment, updated_on=moment
    )


def test_sweep_marks_only_old_connected_sessions(api_gateway):
    make_sessions(api_gateway, 7, connected=True, age=timedelta(hours=3), prefix="old")
    make_sessions(api_gateway, 2, connected=True, age=timedelta(minutes=5), prefix="new")
    summary = run("sweep_stale_sessions", "--batch-size", "3")
    assert (summary["stale_sessions"], summary["connected_sessions"]) == (7, 2)
    assert run("sweep_stale_sessions")["stale_sessions"] == 0  # idempotent


def test_purge_deletes_only_old_disconnected_sessions(api_gateway):
    make_sessions(api_gateway, 5, connected=False, age=timedelta(days=2), prefix="gone")
    make_sessions(api_gateway, 2, connected=False, age=timedelta(minutes=1), prefix="recent")
    make_sessions(api_gateway, 3, connected=True, age=timedelta(days=2), prefix="live")
    assert run("purge_disconnected_sessions", "--batch-size", "2")["deleted_sessions"] == 5
    assert WebSocketSession.objects.count() == 5
    assert run("purge_disconnected_sessions")["deleted_sessions"] == 0


def test_cleanup_tokens_keeps_valid_tokens_and_recent_attempts(user):
    old_token = WebSocketToken.generate_token(user, "session-a")
    new_token = WebSocketToken.generate_token(user, "session-b")
    WebSocketToken.objects.filter(pk=old_token.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    old_attempt = ConnectionRateLimit.record_attempt("203.0.113.1")
    ConnectionRateLimit.record_attempt("203.0.113.2")
    ConnectionRateLimit.objects.filter(pk=old_attempt.pk).update(
        attempt_time=timezone.now() - timedelta(days=8)
    )

    summary = run("cleanup_tokens")
    assert (summary["deleted_tokens"], summary["deleted_rate_limit_records"]) == (1, 1)
    assert list(WebSocketToken.objects.values_list("pk", flat=True)) == [new_token.pk]


@pytest.mark.django_db(transaction=True)
def test_two_copies_at_once_share_the_work(api_gateway):
    make_sessions(api_gateway, 400, connected=False, age=timedelta(days=2), prefix="bulk")
    results: list[dict] = []

    def purge() -> None:
        try:
            results.append(run("purge_disconnected_sessions", "--batch-size", "7"))
        finally:
            connection.close()

    copies = [threading.Thread(target=purge) for _ in range(2)]
    for copy in copies:
        copy.start()
    for copy in copies:
        copy.join()
    assert sum(result["deleted_sessions"] for result in results) == 400
    assert not WebSocketSession.objects.exists()


def test_sync_channel_permissions_is_idempotent(db, capsys):
    from django_aws_api_gateway_websockets.models import ChannelPermission

    from realtime.api import declared_channels

    call_command("sync_channel_permissions")
    call_command("sync_channel_permissions")
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert summaries[-1]["created"] == 0
    assert set(ChannelPermission.objects.values_list("channel_name", flat=True)) == {
        channel.name for channel in declared_channels()
    }
