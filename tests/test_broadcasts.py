"""Broadcasts: permission, fan-out after commit and off the request, Gone handling."""

import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession

from realtime.broadcasts.fanout import deliver
from realtime.broadcasts.models import Broadcast
from tests.conftest import Browser


def wait_until_done(broadcast_id: int, timeout: float = 15.0) -> Broadcast:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        broadcast = Broadcast.objects.get(pk=broadcast_id)
        if broadcast.status == Broadcast.Status.DONE:
            return broadcast
        time.sleep(0.05)
    raise AssertionError(f"broadcast {broadcast_id} not delivered within {timeout}s")


@pytest.mark.django_db(transaction=True)
def test_broadcast_reaches_the_channel_after_the_request_has_returned(
    connected, caller, management_api, broadcaster
):
    sender = connected("announcements", Browser(Client(), broadcaster))
    listeners = [connected("announcements") for _ in range(2)]
    gone = connected("announcements")
    management_api.open_connections.discard(gone)
    # Connected a minute ago: past the grace of a handshake still pending (realtime.management_api).
    WebSocketSession.objects.filter(connection_id=gone).update(
        created_on=timezone.now() - timedelta(minutes=1)
    )
    elsewhere = connected("lobby")
    management_api.slow_connections.update(listeners)

    response = caller.message(
        sender, json.dumps({"action": "broadcast", "channel": "announcements", "text": "hello"})
    )

    # The answer came back while the slow gateway still holds the fan-out.
    assert response.status_code == 200
    # The fan-out may reach the sender before its own acknowledgement: find it by type.
    queued = next(f for f in management_api.received(sender) if f["type"] == "broadcast_queued")
    assert Broadcast.objects.get(pk=queued["broadcast_id"]).status != Broadcast.Status.DONE
    management_api.release.set()

    broadcast = wait_until_done(queued["broadcast_id"])
    assert (broadcast.sent, broadcast.gone, broadcast.failed) == (3, 1, 0)
    expected = {
        "v": 2,  # the release's version: broadcasts only ever add fields
        "type": "broadcast",
        "channel": "announcements",
        "text": "hello",
        "sender": "bob",
        "broadcast_id": broadcast.pk,
    }
    for connection_id in [sender, *listeners]:
        broadcasts = [f for f in management_api.received(connection_id) if f["type"] == "broadcast"]
        assert [{k: v for k, v in f.items() if k != "sent_at"} for f in broadcasts] == [expected]
        assert "sent_at" in broadcasts[0]
    assert all(f["type"] != "broadcast" for f in management_api.received(elsewhere))
    assert not WebSocketSession.objects.get(connection_id=gone).connected
    assert WebSocketSession.objects.get(connection_id=elsewhere).connected


def test_broadcast_needs_the_permission(connected, caller, management_api):
    connection_id = connected("announcements")
    response = caller.message(connection_id, json.dumps({"action": "broadcast", "text": "hi"}))
    assert response.status_code == 403
    assert not Broadcast.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"action": "broadcast", "channel": "announcements"},
        {"action": "broadcast", "channel": "announcements", "text": "x" * 2001},
        {"action": "broadcast", "channel": "bad channel", "text": "hi"},
    ],
)
def test_broadcast_refuses_bad_input(connected, caller, broadcaster, body):
    connection_id = connected("announcements", Browser(Client(), broadcaster))
    assert caller.message(connection_id, json.dumps(body)).status_code == 400
    assert not Broadcast.objects.exists()


def test_posts_still_unavailable_after_the_retry_time_count_as_failed_and_the_session_kept(
    api_gateway, management_api, settings, log_events
):
    settings.BROADCAST_RETRY_SECONDS = 1
    ok = WebSocketSession.objects.create(
        connection_id="okconn", channel_name="lobby", api_gateway=api_gateway
    )
    broken = WebSocketSession.objects.create(
        connection_id="brokenconn", channel_name="lobby", api_gateway=api_gateway
    )
    management_api.open_connections.update({ok.connection_id, broken.connection_id})
    management_api.fail_with_500.add(broken.connection_id)
    broadcast = Broadcast.objects.create(
        channel_name="lobby", payload={"type": "x"}, status=Broadcast.Status.SENDING
    )
    outcomes = deliver(broadcast)
    assert (outcomes["sent"], outcomes["failed"]) == (1, 1)
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.sent, broadcast.failed) == (Broadcast.Status.DONE, 1, 1)
    assert "broadcast.posts_failed" in log_events()
    broken.refresh_from_db()
    assert broken.connected


def test_broadcast_in_several_batches(api_gateway, management_api, settings):
    """The fan-out signs its own requests (realtime.management_api), which moto cannot
    intercept; the fake Management API answers as AWS does, and test_fanout_posting.py checks
    the signatures against botocore's."""
    settings.BROADCAST_BATCH_SIZE = 2  # several batches
    sessions = [
        WebSocketSession.objects.create(
            connection_id=f"batch{i}=", channel_name="lobby", api_gateway=api_gateway
        )
        for i in range(5)
    ]
    management_api.open_connections.update(session.connection_id for session in sessions)
    broadcast = Broadcast.objects.create(
        channel_name="lobby",
        payload={"v": 1, "type": "broadcast", "text": "hi"},
        status=Broadcast.Status.SENDING,
    )
    outcomes = deliver(broadcast)
    for session in sessions:
        assert management_api.received(session.connection_id) == [
            {**broadcast.payload, "broadcast_id": broadcast.pk}
        ]
    assert outcomes["sent"] == 5
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.sent) == (Broadcast.Status.DONE, 5)


@pytest.mark.django_db(transaction=True)
def test_deliver_broadcasts_sends_what_a_dead_process_left(api_gateway, management_api, capsys):
    listener = WebSocketSession.objects.create(
        connection_id="late1", channel_name="lobby", api_gateway=api_gateway
    )
    management_api.open_connections.add(listener.connection_id)
    abandoned = Broadcast.objects.create(channel_name="lobby", payload={"type": "late"})
    Broadcast.objects.filter(pk=abandoned.pk).update(
        created_at=abandoned.created_at.replace(year=2020)
    )
    fresh = Broadcast.objects.create(channel_name="lobby", payload={"type": "fresh"})

    call_command("deliver_broadcasts")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["event"], summary["command"]) == ("command.summary", "deliver_broadcasts")
    assert (summary["broadcasts"], summary["sent"]) == (1, 1)
    assert management_api.received(listener.connection_id) == [
        {"type": "late", "broadcast_id": abandoned.pk}
    ]
    assert Broadcast.objects.get(pk=fresh.pk).status == Broadcast.Status.PENDING
